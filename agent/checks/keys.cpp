#include "agent/checks/keys.h"

#include <charconv>
#include <cmath>

namespace muster::agent::checks {
namespace {

std::optional<double> parse_number(std::string_view text) {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty() ||
        !std::isfinite(value))
        return std::nullopt;
    return value;
}

string_check number_check(double min, double max) {
    return [=](std::string_view text) -> std::optional<std::string> {
        auto value = parse_number(text);
        if (value && *value >= min && *value <= max) return std::nullopt;
        return "expected a number from " + format_number(min, 3) + " to " + format_number(max, 3) +
               ", got '" + std::string(text) + "'";
    };
}

}  // namespace

double get_number(config_map& map, std::string_view key, double min, double max) {
    return *parse_number(map.get_string(key, number_check(min, max)));
}

double get_number(config_map& map, std::string_view key, double fallback, double min, double max) {
    if (!map.has(key)) {
        map.get_string(key, "");  // marks the key as known
        return fallback;
    }
    return get_number(map, key, min, max);
}

std::string get_absolute_path(config_map& map, std::string_view key) {
    return map.get_string(key, [](std::string_view text) -> std::optional<std::string> {
        if (text.empty() || text.front() != '/') return "must be an absolute path";
        return std::nullopt;
    });
}

std::uint16_t get_port(config_map& map, std::string_view key) {
    if (!map.has(key)) map.get_string(key);  // reports the missing key
    return static_cast<std::uint16_t>(map.get_int(key, 0, 1, 65535));
}

check_status thresholds::classify(double value) const {
    if (lower_is_worse) {
        if (value < critical) return check_status::critical;
        if (value < warning) return check_status::warning;
        return check_status::ok;
    }
    if (value >= critical) return check_status::critical;
    if (value >= warning) return check_status::warning;
    return check_status::ok;
}

std::string thresholds::note(check_status status, std::string_view unit) const {
    if (status != check_status::warning && status != check_status::critical) return "";
    double level = status == check_status::warning ? warning : critical;
    return " (" + std::string(status_name(status)) + (lower_is_worse ? " below " : " at ") +
           format_number(level, 2) + std::string(unit) + ")";
}

thresholds read_thresholds(config_map& map, double warning, double critical, double min, double max,
                           bool lower_is_worse) {
    thresholds t;
    t.lower_is_worse = lower_is_worse;
    t.warning = get_number(map, "warning", warning, min, max);
    t.critical = get_number(map, "critical", critical, min, max);
    if (!lower_is_worse && t.warning > t.critical)
        map.fail(map.has("critical") ? "critical" : "warning",
                 "warning (" + format_number(t.warning, 3) + ") cannot be above critical (" +
                     format_number(t.critical, 3) + ")");
    if (lower_is_worse && t.warning < t.critical)
        map.fail(map.has("critical") ? "critical" : "warning",
                 "warning (" + format_number(t.warning, 3) + ") cannot be below critical (" +
                     format_number(t.critical, 3) + ") when lower is worse");
    return t;
}

}  // namespace muster::agent::checks
