#include "collector/incidents/check_result.h"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace muster::collector::incidents {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 4> statuses = {"ok", "warning", "critical", "unknown"};

[[noreturn]] void refuse(const std::string& where, std::string_view problem) {
    throw std::invalid_argument(where + ": " + std::string(problem));
}

std::string text_member(const json::object& object, const std::string& where, std::string_view name,
                        bool required) {
    auto* value = object.if_contains(name);
    if (!value || (!required && value->is_null())) {
        if (required) refuse(where + "." + std::string(name), "missing");
        return {};
    }
    if (!value->is_string()) refuse(where + "." + std::string(name), "not a string");
    return std::string(value->get_string());
}

std::int64_t int_member(const json::object& object, const std::string& where, std::string_view name,
                        bool required, std::int64_t min) {
    auto* value = object.if_contains(name);
    if (!value || (!required && value->is_null())) {
        if (required) refuse(where + "." + std::string(name), "missing");
        return 0;
    }
    if (!value->is_int64() || value->get_int64() < min) {
        refuse(where + "." + std::string(name),
               "not an integer of at least " + std::to_string(min));
    }
    return value->get_int64();
}

std::optional<double> number_member(const json::object& object, const std::string& where) {
    auto* value = object.if_contains("value");
    if (!value || value->is_null()) return std::nullopt;
    if (value->is_int64()) return static_cast<double>(value->get_int64());
    if (value->is_uint64()) return static_cast<double>(value->get_uint64());
    if (value->is_double()) return value->get_double();
    refuse(where + ".value", "not a number or null");
}

// Cut at a UTF-8 character boundary, so the stored text stays valid.
std::string bounded(std::string text, std::size_t limit) {
    if (text.size() <= limit) return text;
    std::size_t end = limit;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text.resize(end);
    return text;
}

check_result read_one(const json::value& item, const std::string& where) {
    if (!item.is_object()) refuse(where, "not an object");
    const auto& object = item.get_object();
    check_result out;
    out.id = text_member(object, where, "id", true);
    if (out.id.empty() || out.id.size() > max_check_id_bytes) {
        refuse(where + ".id", "must be 1 to " + std::to_string(max_check_id_bytes) + " bytes");
    }
    if (out.id == host_not_reporting) refuse(where + ".id", "is reserved for the collector");
    out.type = text_member(object, where, "type", true);
    if (out.type.empty()) refuse(where + ".type", "must not be empty");
    auto severity = text_member(object, where, "severity", false);
    if (!severity.empty()) {
        auto parsed = level_from_string(severity);
        if (!parsed) refuse(where + ".severity", "must be high, medium or low");
        out.severity = *parsed;
    }
    out.status = text_member(object, where, "status", true);
    if (std::find(statuses.begin(), statuses.end(), out.status) == statuses.end()) {
        refuse(where + ".status", "must be ok, warning, critical or unknown");
    }
    out.message = bounded(text_member(object, where, "message", false), max_check_message_bytes);
    out.value = number_member(object, where);
    out.unit = bounded(text_member(object, where, "unit", false), 64);
    out.checked_at = int_member(object, where, "checked_at", true, 0);
    out.interval = int_member(object, where, "interval", false, 0);
    out.duration_ms = int_member(object, where, "duration_ms", false, 0);
    return out;
}

}  // namespace

report_checks read_report_checks(const json::object& document) {
    report_checks out;
    if (auto* interval = document.if_contains("expected_interval");
        interval && !interval->is_null()) {
        if (!interval->is_int64() || interval->get_int64() <= 0) {
            refuse("expected_interval", "not a positive integer");
        }
        out.expected_interval = interval->get_int64();
    }
    auto* checks = document.if_contains("checks");
    if (!checks || checks->is_null()) return out;
    if (!checks->is_array()) refuse("checks", "not an array");
    const auto& items = checks->get_array();
    if (items.size() > max_checks_per_report) {
        refuse("checks", "more than " + std::to_string(max_checks_per_report) + " results");
    }
    out.results.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        out.results.push_back(read_one(items[i], "checks[" + std::to_string(i) + "]"));
    }
    return out;
}

}  // namespace muster::collector::incidents
