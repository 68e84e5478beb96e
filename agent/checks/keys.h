#pragma once
// Readers for the keys several check types share (thresholds, numbers, paths, ports), on top
// of common/config.h: every problem is a config_error naming file:line:column and the key.
#include "agent/checks/check.h"
#include "common/config.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace muster::agent::checks {

// A decimal number ("90", "1.5") from min to max; required, or fallback when absent.
double get_number(config_map& map, std::string_view key, double min, double max);
double get_number(config_map& map, std::string_view key, double fallback, double min, double max);

// An absolute path; required.
std::string get_absolute_path(config_map& map, std::string_view key);

// A TCP port, 1 to 65535; required.
std::uint16_t get_port(config_map& map, std::string_view key);

// The warning and critical levels of a measured value. When higher is worse (disk full), a
// value at or above a level reaches it; when lower is worse (memory available), a value
// below it does.
struct thresholds {
    double warning = 0;
    double critical = 0;
    bool lower_is_worse = false;

    check_status classify(double value) const;
    // " (warning at 90%)", " (critical below 5%)"; "" for ok.
    std::string note(check_status status, std::string_view unit) const;
};

// Reads `warning` and `critical` (numbers from min to max, with defaults), and refuses a
// warning level beyond the critical one.
thresholds read_thresholds(config_map& map, double warning, double critical, double min, double max,
                           bool lower_is_worse = false);

}  // namespace muster::agent::checks
