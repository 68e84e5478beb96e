#pragma once
// Health checks (docs/checks.md): what one check is, what it measures, and the result the
// agent reports (docs/protocol.md, "Health checks").
//
// Error policy of the checks layer: a check never throws on purpose and never stops the
// agent. Whatever goes wrong while checking (a file it cannot read, a refused connection, a
// plugin that crashed) is the check's outcome, with a message saying what and where: the
// thing checked is broken (critical) or the check could not tell (unknown). An exception
// escaping a check, and a check still running at its timeout, are turned into unknown by the
// runner (runner.h). Configuration mistakes are config_errors, found when the file is read.
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace muster::agent::checks {

enum class check_status { ok, warning, critical, unknown };

std::string_view status_name(check_status status);

// What one run of a check found.
struct check_outcome {
    check_status status = check_status::unknown;
    std::string message;
    std::optional<double> value;  // the measured value, when there is one
    std::string unit;             // of value: "%", "ms", "s", "d", "" ...
};

check_outcome outcome_of(check_status status, std::string message,
                         std::optional<double> value = std::nullopt, std::string unit = "");
check_outcome unknown(std::string message);
check_outcome critical(std::string message);

// What a running check may ask of its runner.
struct run_context {
    // /proc and /sys are read under this directory (tests point it at fixture trees).
    std::filesystem::path root = "/";
    // When the runner gives up on this run. Checks that wait (network, child processes)
    // stop waiting by then on their own, so that they report their own reason.
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    std::chrono::milliseconds timeout{0};  // the check's timeout, for messages
    // True once the runner abandoned this run (daemon stopping): stop now, clean up.
    std::function<bool()> cancelled;

    std::filesystem::path path(std::string_view absolute) const;
    bool should_stop() const { return cancelled && cancelled(); }
    std::chrono::steady_clock::duration time_left() const;
};

using check_fn = std::function<check_outcome(const run_context&)>;

// One configured check (agent.yaml, `checks:`).
struct check_config {
    std::string id;  // unique per agent
    std::string type;
    std::string severity = "medium";  // high, medium or low: the collector's urgency
    std::chrono::milliseconds interval = std::chrono::minutes(5);
    std::chrono::milliseconds timeout = std::chrono::seconds(10);
    check_fn run;  // made by the type's reader from its own keys; owns a copy of them
};

// One result as reported (docs/protocol.md, "Health checks").
struct check_result {
    std::string id;
    std::string type;
    std::string severity;
    check_outcome outcome;
    std::int64_t checked_at = 0;  // Unix seconds at the start of the run
    std::int64_t interval_seconds = 0;
    std::int64_t duration_ms = 0;
};

boost::json::object to_json(const check_result& result);
boost::json::array to_json(const std::vector<check_result>& results);

// "91.2", "90", "0.05": at most `decimals` decimals, trailing zeros removed.
std::string format_number(double value, int decimals = 1);
// "10 s", "250 ms", "2 h" for messages.
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace muster::agent::checks
