#include "collector/admin/request_params.h"

#include "common/crypto.h"

#include <algorithm>
#include <charconv>

namespace muster::collector::admin {
namespace {

namespace json = boost::json;

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

std::string base64url(std::string_view data) {
    auto text = base64_encode(data);
    std::replace(text.begin(), text.end(), '+', '-');
    std::replace(text.begin(), text.end(), '/', '_');
    while (!text.empty() && text.back() == '=') text.pop_back();
    return text;
}

std::optional<std::string> from_base64url(std::string_view text) {
    std::string standard(text);
    if (standard.find_first_of("+/=") != std::string::npos) return std::nullopt;
    std::replace(standard.begin(), standard.end(), '-', '+');
    std::replace(standard.begin(), standard.end(), '_', '/');
    while (standard.size() % 4 != 0) standard += '=';
    return base64_decode(standard);
}

}  // namespace

std::optional<std::string> url_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%') {
            if (i + 2 >= text.size()) return std::nullopt;
            int high = hex_value(text[i + 1]);
            int low = hex_value(text[i + 2]);
            if (high < 0 || low < 0) return std::nullopt;
            out += static_cast<char>(high * 16 + low);
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

request_target parse_target(std::string_view target) {
    request_target out;
    auto question = target.find('?');
    std::string_view path = target.substr(0, question);
    std::string_view query = question == std::string_view::npos ? "" : target.substr(question + 1);
    while (!path.empty()) {
        auto slash = path.find('/');
        auto segment = path.substr(0, slash);
        if (!segment.empty()) {
            auto decoded = url_decode(segment);
            if (!decoded) throw param_error("the path has a broken %-escape");
            out.segments.push_back(std::move(*decoded));
        }
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    while (!query.empty()) {
        auto amp = query.find('&');
        auto pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
        if (pair.empty()) continue;
        auto equals = pair.find('=');
        auto name = url_decode(pair.substr(0, equals));
        auto value = url_decode(equals == std::string_view::npos ? "" : pair.substr(equals + 1));
        if (!name || !value) throw param_error("the query string has a broken %-escape");
        if (out.params.contains(*name)) {
            throw param_error(*name + ": given more than once");
        }
        out.params.emplace(std::move(*name), std::move(*value));
    }
    return out;
}

std::optional<std::string> params_reader::take(std::string_view name) {
    auto found = params_.find(name);
    if (found == params_.end()) return std::nullopt;
    auto value = std::move(found->second);
    params_.erase(found);
    return value;
}

std::optional<std::string> params_reader::text(std::string_view name) {
    auto value = take(name);
    if (!value) return value;
    if (value->empty()) throw param_error(std::string(name) + ": must not be empty");
    if (value->size() > max_text) {
        throw param_error(std::string(name) + ": at most " + std::to_string(max_text) + " bytes");
    }
    bool control = std::any_of(value->begin(), value->end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (control) throw param_error(std::string(name) + ": must not contain control characters");
    return value;
}

std::optional<std::string> params_reader::one_of(std::string_view name,
                                                 std::initializer_list<std::string_view> words) {
    auto value = take(name);
    if (!value) return value;
    for (auto word : words) {
        if (*value == word) return value;
    }
    std::string expected;
    for (auto word : words) expected += (expected.empty() ? "" : ", ") + std::string(word);
    throw param_error(std::string(name) + ": expected one of " + expected);
}

std::optional<std::int64_t> params_reader::integer(std::string_view name, std::int64_t min,
                                                   std::int64_t max) {
    auto value = take(name);
    if (!value) return std::nullopt;
    auto number = parse_int(*value);
    if (!number || *number < min || *number > max) {
        throw param_error(std::string(name) + ": expected a number from " + std::to_string(min) +
                          " to " + std::to_string(max));
    }
    return number;
}

std::optional<std::int64_t> params_reader::time(std::string_view name, std::int64_t now) {
    auto value = take(name);
    if (!value) return std::nullopt;
    constexpr std::int64_t max_seconds = 1LL << 40;
    if (auto seconds = parse_int(*value); seconds && *seconds >= 0 && *seconds < max_seconds) {
        return seconds;
    }
    if (value->size() >= 2) {
        auto count = parse_int(std::string_view(*value).substr(0, value->size() - 1));
        std::int64_t unit = 0;
        switch (value->back()) {
            case 's':
                unit = 1;
                break;
            case 'm':
                unit = 60;
                break;
            case 'h':
                unit = 3600;
                break;
            case 'd':
                unit = 86400;
                break;
            default:
                break;
        }
        if (count && unit && *count >= 0 && *count < max_seconds / unit) {
            return now - *count * unit;
        }
    }
    throw param_error(std::string(name) +
                      ": expected Unix seconds or a duration back from now such as 30d, 12h, "
                      "15m, 90s");
}

std::size_t params_reader::limit() {
    auto value = integer("limit", 1, static_cast<std::int64_t>(max_limit));
    return value ? static_cast<std::size_t>(*value) : default_limit;
}

std::optional<json::array> params_reader::cursor(std::string_view list) {
    auto value = take("cursor");
    if (!value) return std::nullopt;
    auto key = decode_cursor(list, *value);
    if (!key) throw param_error("cursor: not a cursor of this list (use next_cursor as given)");
    return key;
}

void params_reader::finish() {
    if (params_.empty()) return;
    std::string name = params_.begin()->first.substr(0, 64);
    for (auto& c : name) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    throw param_error("unknown parameter '" + name + "'");
}

std::string encode_cursor(std::string_view list, const json::array& key) {
    json::array wrapped{json::string(list)};
    for (const auto& part : key) wrapped.push_back(part);
    return base64url(json::serialize(wrapped));
}

std::optional<json::array> decode_cursor(std::string_view list, std::string_view text) {
    if (text.size() > 1024) return std::nullopt;
    auto bytes = from_base64url(text);
    if (!bytes) return std::nullopt;
    boost::system::error_code ec;
    auto parsed = json::parse(*bytes, ec);
    if (ec || !parsed.is_array() || parsed.get_array().empty()) return std::nullopt;
    auto& array = parsed.get_array();
    if (!array[0].is_string() || array[0].get_string() != list) return std::nullopt;
    array.erase(array.begin());
    for (const auto& part : array) {
        if (!part.is_int64() && !part.is_string()) return std::nullopt;
    }
    return array;
}

}  // namespace muster::collector::admin
