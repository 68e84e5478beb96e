#pragma once
// The inventory collectors, one per section of the document, each in its own file
// (agent/inventory/<section>.cpp). The list that runs them is in collectors.cpp.
#include "agent/inventory/context.h"

#include <span>
#include <string_view>

namespace muster::agent::inventory {

boost::json::value collect_system(const context& ctx, error_list& errors);
boost::json::value collect_hardware(const context& ctx, error_list& errors);
boost::json::value collect_os(const context& ctx, error_list& errors);
boost::json::value collect_cpu(const context& ctx, error_list& errors);
boost::json::value collect_memory(const context& ctx, error_list& errors);
boost::json::value collect_disks(const context& ctx, error_list& errors);
boost::json::value collect_filesystems(const context& ctx, error_list& errors);
boost::json::value collect_network(const context& ctx, error_list& errors);
boost::json::value collect_software(const context& ctx, error_list& errors);
boost::json::value collect_services(const context& ctx, error_list& errors);
boost::json::value collect_listening_ports(const context& ctx, error_list& errors);
boost::json::value collect_users(const context& ctx, error_list& errors);

struct collector {
    std::string_view section;
    collector_fn collect;
};

// All collectors in the order their sections appear in the document.
std::span<const collector> all_collectors();

// Runs every collector and assembles the inventory document, with "errors" last.
boost::json::object collect_inventory(const context& ctx);

}  // namespace muster::agent::inventory
