// Section "services": the systemd service units of the machine.
//
// Fields: name, load_state, active_state, sub_state, enabled. Where systemd is not the
// running init (no /run/systemd/system, as in most containers) the list is empty and one
// errors entry says why.
//
// When systemd runs, the unit files are enumerated the way systemd looks them up: the first
// of /etc/systemd/system, /run/systemd/system, /usr/lib/systemd/system, /lib/systemd/system
// holding a name wins. load_state: "masked" (symlink to /dev/null), "not-found" (dangling
// symlink), else "loaded". enabled: "masked"; "alias" for a symlink to another unit;
// "enabled" / "enabled-runtime" when a *.wants or *.requires directory of /etc or /run
// links to it (an instance "a@x.service" counts for its template "a@.service"); "disabled"
// when its [Install] section names a way to enable it; else "static"; null when not-found.
//
// active_state and sub_state come from systemd itself, over the system bus
// (Manager.ListUnits, services_dbus.h), only on the live system and when its socket exists;
// otherwise they are null and one errors entry says why. The bus is authoritative for the
// units systemd has loaded (load_state too, and a loaded unit with no unit file found here,
// such as a generated or transient one, is listed with enabled null); a unit known only from
// its file is "inactive" / "dead", as systemctl shows it.
#include "agent/inventory/collectors.h"
#include "agent/inventory/read.h"
#include "agent/inventory/services_dbus.h"

#include "common/file.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <system_error>

namespace muster::agent::inventory {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view section = "services";
constexpr std::string_view running_marker = "/run/systemd/system";
constexpr std::string_view bus_socket = "/run/dbus/system_bus_socket";
// The whole bus exchange (connect, authenticate, Hello, ListUnits) must fit in this.
constexpr std::chrono::milliseconds bus_timeout{500};
constexpr std::array<std::string_view, 4> unit_dirs = {
    "/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"};

struct unit_file {
    std::string name;
    fs::path path;  // under the context root
    bool is_symlink = false;
    std::string link_target;  // as written in the symlink
};

bool is_service_name(std::string_view name) {
    return name.size() > 8 && name.ends_with(".service");
}

// The template a unit instance belongs to: "getty@tty1.service" -> "getty@.service".
std::string template_of(std::string_view name) {
    auto at = name.find('@');
    if (at == std::string_view::npos) return std::string(name);
    return std::string(name.substr(0, at + 1)) + ".service";
}

std::map<std::string, unit_file> unit_files(const context& ctx) {
    std::map<std::string, unit_file> units;
    for (auto dir : unit_dirs) {
        std::error_code ec;
        for (fs::directory_iterator it(ctx.path(dir), ec), end; !ec && it != end;
             it.increment(ec)) {
            auto name = it->path().filename().string();
            if (!is_service_name(name) || units.contains(name)) continue;
            std::error_code link_ec;
            bool symlink = it->is_symlink(link_ec);
            if (!symlink && !it->is_regular_file(link_ec)) continue;
            unit_file unit{name, it->path(), symlink, {}};
            if (symlink) unit.link_target = fs::read_symlink(it->path(), link_ec).string();
            units.emplace(name, std::move(unit));
        }
    }
    return units;
}

// Names linked from *.wants / *.requires directories under one configuration directory.
std::set<std::string> wanted_names(const context& ctx, std::string_view dir) {
    std::set<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(ctx.path(dir), ec), end; !ec && it != end; it.increment(ec)) {
        auto sub = it->path().filename().string();
        if (!sub.ends_with(".wants") && !sub.ends_with(".requires")) continue;
        std::error_code sub_ec;
        for (fs::directory_iterator link(it->path(), sub_ec); !sub_ec && link != end;
             link.increment(sub_ec)) {
            auto name = link->path().filename().string();
            names.insert(name);
            names.insert(template_of(name));
        }
    }
    return names;
}

// Where a symlinked unit points, resolved under the context root.
fs::path resolved_target(const context& ctx, const unit_file& unit) {
    fs::path target = unit.link_target;
    return target.is_absolute() ? ctx.path(target.string()) : unit.path.parent_path() / target;
}

std::string load_state(const context& ctx, const unit_file& unit) {
    if (!unit.is_symlink) return "loaded";
    if (unit.link_target == "/dev/null") return "masked";
    std::error_code ec;
    return fs::exists(resolved_target(ctx, unit), ec) ? "loaded" : "not-found";
}

// True when the [Install] section has a key that systemctl enable would act on.
bool has_install_section(const context& ctx, const unit_file& unit) {
    fs::path file = unit.is_symlink ? resolved_target(ctx, unit) : unit.path;
    auto content = read_file(file, 1 << 20);
    if (!content) return false;
    std::string_view rest = *content;
    bool in_install = false;
    while (!rest.empty()) {
        auto newline = rest.find('\n');
        auto line = trim(rest.substr(0, newline));
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        if (line.starts_with("[")) {
            in_install = line == "[Install]";
            continue;
        }
        if (!in_install) continue;
        for (std::string_view key : {"WantedBy=", "RequiredBy=", "UpheldBy=", "Alias=", "Also="})
            if (line.starts_with(key) && !trim(line.substr(key.size())).empty()) return true;
    }
    return false;
}

struct enablement {
    std::set<std::string> in_etc;
    std::set<std::string> in_run;
};

boost::json::value enabled_state(const context& ctx, const unit_file& unit,
                                 const std::string& loaded, const enablement& links) {
    if (loaded == "masked") return "masked";
    if (loaded == "not-found") return nullptr;  // nothing to read the [Install] section from
    if (unit.is_symlink && fs::path(unit.link_target).filename() != unit.name) return "alias";
    if (links.in_etc.contains(unit.name)) return "enabled";
    if (links.in_run.contains(unit.name)) return "enabled-runtime";
    return has_install_section(ctx, unit) ? "disabled" : "static";
}

// The service units systemd has loaded, by name; nullopt (with one errors entry) when the
// bus cannot be asked.
std::optional<std::map<std::string, dbus::unit_row>> loaded_services(const context& ctx,
                                                                     error_list& errors) {
    std::error_code ec;
    if (!ctx.live()) {
        errors.add(section, bus_socket,
                   "active state needs the running system's D-Bus API (not read under a fixture root)");
        return std::nullopt;
    }
    if (!fs::exists(bus_socket, ec)) {
        errors.add(section, bus_socket, "absent: active state needs the system bus");
        return std::nullopt;
    }
    auto units = dbus::list_units(std::string(bus_socket), bus_timeout);
    if (!units) {
        errors.add(section, bus_socket, units.reason());
        return std::nullopt;
    }
    std::map<std::string, dbus::unit_row> services;
    for (auto& unit : *units)
        if (is_service_name(unit.name)) services.emplace(unit.name, std::move(unit));
    return services;
}

}  // namespace

boost::json::value collect_services(const context& ctx, error_list& errors) {
    std::error_code ec;
    if (!fs::is_directory(ctx.path(running_marker), ec)) {
        errors.add(section, running_marker,
                   "systemd is not running (absent), so there are no units to report");
        return boost::json::array{};
    }
    std::map<std::string, boost::json::object> services;  // sorted by name
    enablement links{wanted_names(ctx, "/etc/systemd/system"),
                     wanted_names(ctx, "/run/systemd/system")};
    auto loaded = loaded_services(ctx, errors);
    auto files = unit_files(ctx);
    for (const auto& [name, unit] : files) {
        auto file_state = load_state(ctx, unit);
        boost::json::object entry{{"name", name},
                                  {"load_state", file_state},
                                  {"active_state", nullptr},
                                  {"sub_state", nullptr},
                                  {"enabled", enabled_state(ctx, unit, file_state, links)}};
        if (loaded) {
            auto row = loaded->find(name);
            auto states =
                dbus::merged_states(file_state, row == loaded->end() ? nullptr : &row->second);
            entry["load_state"] = states.load_state;
            entry["active_state"] = states.active_state;
            entry["sub_state"] = states.sub_state;
        }
        services.emplace(name, std::move(entry));
    }
    if (loaded) {
        for (const auto& [name, row] : *loaded) {
            if (files.contains(name)) continue;
            services.emplace(name, boost::json::object{{"name", name},
                                                       {"load_state", row.load_state},
                                                       {"active_state", row.active_state},
                                                       {"sub_state", row.sub_state},
                                                       {"enabled", nullptr}});
        }
    }
    boost::json::array listed;
    for (auto& [name, entry] : services) listed.emplace_back(std::move(entry));
    return listed;
}

}  // namespace muster::agent::inventory
