// systemd_unit: the active state of one unit, asked of systemd over the system
// bus (Manager.ListUnits, through the inventory's own D-Bus client). active is
// ok; activating, reloading and deactivating are a warning (in transition);
// inactive, failed, and a unit systemd has not loaded are critical. Without
// systemd or its bus: unknown.
#include "agent/checks/keys.h"
#include "agent/checks/types.h"
#include "agent/inventory/services_dbus.h"

#include <sys/stat.h>

#include <algorithm>

namespace muster::agent::checks {

namespace dbus = inventory::dbus;

check_outcome systemd_unit_outcome(const std::string& unit,
                                   const std::vector<dbus::unit_row>& units) {
    auto it = std::find_if(units.begin(), units.end(),
                           [&](const dbus::unit_row& row) { return row.name == unit; });
    if (it == units.end())
        return critical(unit + " is not loaded (no such unit, or systemd never started it)");
    auto text = unit + " is " + it->active_state + " (" + it->sub_state + ")";
    if (it->active_state == "active") return outcome_of(check_status::ok, text);
    if (it->active_state == "activating" || it->active_state == "reloading" ||
        it->active_state == "deactivating")
        return outcome_of(check_status::warning, text);
    return critical(text);
}

check_fn read_systemd_unit(config_map& map) {
    auto unit = map.get_string("unit", [](std::string_view text) -> std::optional<std::string> {
        if (text.empty() || text.find_first_of("/ \t") != std::string_view::npos)
            return "expected a unit name such as nginx.service";
        return std::nullopt;
    });
    if (unit.find('.') == std::string::npos) unit += ".service";  // as systemctl does
    std::string bus = "/run/dbus/system_bus_socket";
    if (map.has("bus")) bus = get_absolute_path(map, "bus");
    return [unit, bus](const run_context& ctx) {
        struct stat st {};
        if (::stat(bus.c_str(), &st) != 0)
            return unknown("no system bus at " + bus + ": systemd is not running here");
        auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.time_left());
        auto units = dbus::list_units(bus, timeout);
        if (!units) return unknown("cannot ask systemd about " + unit + ": " + units.reason());
        return systemd_unit_outcome(unit, *units);
    };
}

}  // namespace muster::agent::checks
