#include "agent/checks/check.h"

#include <cmath>
#include <cstdio>

namespace muster::agent::checks {

std::string_view status_name(check_status status) {
    switch (status) {
        case check_status::ok:
            return "ok";
        case check_status::warning:
            return "warning";
        case check_status::critical:
            return "critical";
        case check_status::unknown:
            return "unknown";
    }
    return "unknown";
}

check_outcome outcome_of(check_status status, std::string message, std::optional<double> value,
                         std::string unit) {
    return {status, std::move(message), value, std::move(unit)};
}

check_outcome unknown(std::string message) {
    return outcome_of(check_status::unknown, std::move(message));
}

check_outcome critical(std::string message) {
    return outcome_of(check_status::critical, std::move(message));
}

std::filesystem::path run_context::path(std::string_view absolute) const {
    while (!absolute.empty() && absolute.front() == '/') absolute.remove_prefix(1);
    return root / absolute;
}

std::chrono::steady_clock::duration run_context::time_left() const {
    if (deadline == std::chrono::steady_clock::time_point::max()) return std::chrono::hours(24);
    return std::max(deadline - std::chrono::steady_clock::now(),
                    std::chrono::steady_clock::duration::zero());
}

namespace {

// Whole numbers go out as JSON integers, so that a count reads as 3, not 3E0.
boost::json::value number_value(double value) {
    if (std::isfinite(value) && value == std::trunc(value) && std::fabs(value) < 1e15)
        return static_cast<std::int64_t>(value);
    if (!std::isfinite(value)) return nullptr;
    return value;
}

}  // namespace

boost::json::object to_json(const check_result& r) {
    boost::json::object o;
    o["id"] = r.id;
    o["type"] = r.type;
    o["severity"] = r.severity;
    o["status"] = status_name(r.outcome.status);
    o["message"] = r.outcome.message;
    o["value"] = r.outcome.value ? number_value(*r.outcome.value) : nullptr;
    o["unit"] = r.outcome.unit;
    o["checked_at"] = r.checked_at;
    o["interval"] = r.interval_seconds;
    o["duration_ms"] = r.duration_ms;
    return o;
}

boost::json::array to_json(const std::vector<check_result>& results) {
    boost::json::array array;
    for (const auto& r : results) array.push_back(to_json(r));
    return array;
}

std::string format_number(double value, int decimals) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    std::string text = buffer;
    if (text.find('.') != std::string::npos) {
        while (text.back() == '0') text.pop_back();
        if (text.back() == '.') text.pop_back();
    }
    if (text == "-0") text = "0";
    return text;
}

std::string format_duration(std::chrono::milliseconds duration) {
    using namespace std::chrono;
    auto ms = duration.count();
    if (ms % 1000 != 0) return std::to_string(ms) + " ms";
    auto s = ms / 1000;
    if (s >= 86400 && s % 86400 == 0) return std::to_string(s / 86400) + " d";
    if (s >= 3600 && s % 3600 == 0) return std::to_string(s / 3600) + " h";
    if (s >= 60 && s % 60 == 0) return std::to_string(s / 60) + " min";
    return std::to_string(s) + " s";
}

}  // namespace muster::agent::checks
