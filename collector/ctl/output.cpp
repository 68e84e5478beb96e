#include "collector/ctl/output.h"

#include "common/json.h"

#include <algorithm>
#include <ctime>

namespace muster::ctl {

namespace {

namespace json = boost::json;

bool is_time_field(std::string_view name) {
    auto ends_with = [&](std::string_view suffix) {
        return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
    };
    return ends_with("_at") || ends_with("_due") || name == "first_seen" || name == "last_seen" ||
           name == "time" || name == "since" || name == "until";
}

std::string utc_time(std::int64_t seconds) {
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &tm);
    return buffer;
}

bool all_scalars(const json::array& array) {
    return std::all_of(array.begin(), array.end(),
                       [](const json::value& v) { return !v.is_array() && !v.is_object(); });
}

// Cells for people: times readable, lists of names joined, long text shortened.
std::string table_cell(std::string_view field, const json::value& value) {
    if (value.is_null()) return "-";
    if (value.is_int64() && is_time_field(field)) return utc_time(value.as_int64());
    std::string text;
    if (value.is_array() && value.as_array().empty()) return "-";
    if (value.is_array() && all_scalars(value.as_array())) {
        for (const auto& element : value.as_array()) {
            if (!text.empty()) text += ",";
            text += cell_text(element);
        }
    } else if (value.is_array()) {
        text = std::to_string(value.as_array().size()) + " items";
    } else {
        text = cell_text(value);
    }
    for (char& c : text) {
        if (c == '\n' || c == '\t') c = ' ';
    }
    constexpr std::size_t widest = 70;
    if (text.size() > widest) text = text.substr(0, widest - 3) + "...";
    return text;
}

void print_table(std::ostream& out, const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width(header.size());
    for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    auto line = [&](const std::vector<std::string>& cells) {
        std::string text;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            text += cells[i];
            if (i + 1 < cells.size()) text += std::string(width[i] - cells[i].size() + 2, ' ');
        }
        out << text << "\n";
    };
    line(header);
    for (const auto& row : rows) line(row);
}

std::string upper(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return text;
}

// Every key of every item, in the order first seen: csv needs one header for all rows.
std::vector<std::string> all_keys(const json::array& items) {
    std::vector<std::string> keys;
    for (const auto& item : items) {
        if (!item.is_object()) continue;
        for (const auto& field : item.as_object()) {
            std::string key(field.key());
            if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
        }
    }
    return keys;
}

void print_csv(std::ostream& out, const json::array& items) {
    auto keys = all_keys(items);
    std::string header;
    for (const auto& key : keys) header += (header.empty() ? "" : ",") + csv_field(key);
    out << header << "\r\n";
    for (const auto& item : items) {
        std::string row;
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (i > 0) row += ",";
            const auto* value = item.is_object() ? item.as_object().if_contains(keys[i]) : nullptr;
            row += csv_field(value ? cell_text(*value) : "");
        }
        out << row << "\r\n";
    }
}

}  // namespace

std::string cell_text(const json::value& value) {
    switch (value.kind()) {
        case json::kind::null:
            return "";
        case json::kind::string:
            return std::string(value.as_string());
        case json::kind::bool_:
            return value.as_bool() ? "true" : "false";
        default:
            return json::serialize(value);
    }
}

std::string csv_field(std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

void print_list(std::ostream& out, output_format format, const json::array& items,
                const std::vector<std::string>& columns) {
    if (format == output_format::json) {
        out << to_pretty_json(items);
        return;
    }
    if (format == output_format::csv) {
        print_csv(out, items);
        return;
    }
    std::vector<std::string> header;
    for (const auto& column : columns) header.push_back(upper(column));
    std::vector<std::vector<std::string>> rows;
    for (const auto& item : items) {
        std::vector<std::string> row;
        for (const auto& column : columns) {
            const auto* value = item.is_object() ? item.as_object().if_contains(column) : nullptr;
            row.push_back(value ? table_cell(column, *value) : "-");
        }
        rows.push_back(std::move(row));
    }
    print_table(out, header, rows);
}

void print_item(std::ostream& out, output_format format, const json::object& item,
                const std::vector<std::string>& fields) {
    if (format == output_format::json) {
        out << to_pretty_json(item);
        return;
    }
    if (format == output_format::csv) {
        print_csv(out, json::array{item});
        return;
    }
    std::vector<std::string> names = fields;
    if (names.empty()) {
        for (const auto& field : item) names.emplace_back(field.key());
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& name : names) {
        const auto* value = item.if_contains(name);
        rows.push_back({name, value ? table_cell(name, *value) : "-"});
    }
    print_table(out, {"FIELD", "VALUE"}, rows);
}

}  // namespace muster::ctl
