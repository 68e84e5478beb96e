#include "agent/inventory/collectors.h"

#include <exception>

namespace muster::agent::inventory {

// The one place where collectors are registered. A new section is one line here and one
// file beside this one.
static constexpr collector registered[] = {
    {"system", collect_system},
    {"hardware", collect_hardware},
    {"os", collect_os},
    {"cpu", collect_cpu},
    {"memory", collect_memory},
    {"disks", collect_disks},
    {"filesystems", collect_filesystems},
    {"network", collect_network},
    {"software", collect_software},
    {"services", collect_services},
    {"listening_ports", collect_listening_ports},
    {"users", collect_users},
};

std::span<const collector> all_collectors() { return registered; }

boost::json::object collect_inventory(const context& ctx) {
    boost::json::object document;
    document["schema_version"] = 1;
    error_list errors;
    for (const auto& c : registered) {
        try {
            document[c.section] = c.collect(ctx, errors);
        } catch (const std::exception& e) {
            document[c.section] = nullptr;
            errors.add(c.section, ctx.root().string(), std::string("collector failed: ") + e.what());
        }
    }
    boost::json::array error_array;
    for (const auto& e : errors.entries())
        error_array.push_back({{"section", e.section}, {"path", e.path}, {"reason", e.reason}});
    document["errors"] = std::move(error_array);
    return document;
}

}  // namespace muster::agent::inventory
