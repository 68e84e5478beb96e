#pragma once
// The entry points of the check types, one per file agent/checks/<type>.cpp. Each reads its
// own keys from the check's mapping in agent.yaml (throwing config_error) and returns the
// function that runs the check with a copy of them. Registered in registry.cpp.
#include "agent/checks/check.h"
#include "agent/inventory/services_dbus.h"
#include "common/config.h"

#include <string>
#include <string_view>
#include <vector>

namespace muster::agent::checks {

check_fn read_disk_usage(config_map& map);
check_fn read_inode_usage(config_map& map);
check_fn read_memory_available(config_map& map);
check_fn read_swap_used(config_map& map);
check_fn read_load_per_core(config_map& map);
check_fn read_systemd_unit(config_map& map);
check_fn read_process(config_map& map);
check_fn read_tcp_connect(config_map& map);
check_fn read_http(config_map& map);
check_fn read_certificate_expiry(config_map& map);
check_fn read_file_age(config_map& map);
check_fn read_command(config_map& map);

// The pure parts, for tests.

// The state of unit among the units systemd listed (systemd_unit.cpp).
check_outcome systemd_unit_outcome(const std::string& unit,
                                   const std::vector<inventory::dbus::unit_row>& units);

// A Nagios plugin's output (command.cpp): the first line, without its performance data, is
// the message; a single performance datum ("'label'=12.5ms;...") gives the value and unit.
struct plugin_output {
    std::string message;
    std::optional<double> value;
    std::string unit;
};
plugin_output parse_plugin_output(std::string_view stdout_text);

}  // namespace muster::agent::checks
