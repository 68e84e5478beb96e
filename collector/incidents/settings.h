#pragma once
// Settings of the incident engine: the `services:` and `incidents:` keys of collector.yaml
// (every key documented there and in docs/incidents.md).
//
// Error policy: reading throws config_error naming file:line:column and the key
// (common/config.h); the structs themselves are plain values with the documented defaults,
// so tests build them directly.
#include "common/config.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace muster::collector::incidents {

// high, medium, low: both a service's criticality (impact) and a check's severity (urgency).
enum class level { high = 0, medium = 1, low = 2 };

std::string_view to_string(level value);
std::optional<level> level_from_string(std::string_view text);

// Priorities are 1 (P1, the most urgent) to 4 (P4).
inline constexpr int lowest_priority = 4;
std::string priority_name(int priority);  // "P1".."P4"

// matrix[impact][urgency]; the ITIL default.
using priority_matrix = std::array<std::array<int, 3>, 3>;
inline constexpr priority_matrix default_priority_matrix = {{
    {1, 2, 3},  // impact high:   urgency high, medium, low
    {2, 3, 4},  // impact medium
    {3, 4, 4},  // impact low
}};

struct sla_target {
    std::int64_t response = 0;    // seconds from opening to acknowledgement (or resolution)
    std::int64_t resolution = 0;  // seconds from opening to resolution
};

struct service_definition {
    std::string name;
    std::string owner;  // may be empty
    level criticality = level::medium;
    std::vector<std::string> hostnames;  // fnmatch globs on the CI's hostname
    std::vector<std::string> tags;       // any tag the agent reports
    std::vector<std::string> os;         // the OS id ("debian") or name ("Debian GNU/Linux")
};

struct incident_settings {
    int open_after = 2;
    int resolve_after = 2;
    std::int64_t reopen_within = 3600;
    // Flapping: at least `flap_changes` ok <-> not-ok changes within `flap_window`; held
    // notifications are released once no change happened for `flap_quiet`.
    int flap_changes = 5;
    std::int64_t flap_window = 3600;
    std::int64_t flap_quiet = 1800;
    // Silent hosts: nothing for silent_after_intervals x the agent's expected_interval
    // (default_expected_interval when the agent sent none).
    int silent_after_intervals = 3;
    std::int64_t default_expected_interval = 3600;
    level silent_urgency = level::high;
    // Problems: problem_incidents incidents of one check on one CI within problem_window.
    int problem_incidents = 3;
    std::int64_t problem_window = 7 * 86400;
    level default_impact = level::medium;  // CIs in no service
    priority_matrix matrix = default_priority_matrix;
    std::array<sla_target, lowest_priority> sla = {{
        {15 * 60, 4 * 3600},
        {3600, 8 * 3600},
        {4 * 3600, 3 * 86400},
        {86400, 5 * 86400},
    }};
    std::vector<service_definition> services;
};

// Reads `services:` and `incidents:` from the root of collector.yaml.
incident_settings read_incident_settings(config_map& root);

}  // namespace muster::collector::incidents
