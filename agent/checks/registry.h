#pragma once
// The check types and the `checks:` list of agent.yaml. Each type is one file
// (agent/checks/<type>.cpp) with one entry point, the reader of its own keys, which returns
// the function that runs the check; registry.cpp lists them all.
#include "agent/checks/check.h"
#include "common/config.h"

#include <span>
#include <string_view>
#include <vector>

namespace muster::agent::checks {

inline constexpr std::size_t max_checks = 256;
inline constexpr std::size_t max_check_id_length = 64;

struct check_type {
    std::string_view name;
    // Reads the type's own keys from the check's mapping; throws config_error.
    check_fn (*read)(config_map& map);
};

std::span<const check_type> all_check_types();

// Reads `checks:` from the root of agent.yaml: ids unique, every key known.
std::vector<check_config> read_checks(config_map& root);

// The longest the agent goes without a report: the inventory interval, or the shortest check
// interval when a check runs more often. Whole seconds, at least 1.
std::int64_t expected_interval_seconds(std::chrono::milliseconds inventory_interval,
                                       const std::vector<check_config>& checks);

}  // namespace muster::agent::checks
