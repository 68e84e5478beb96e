#include "agent/checks/registry.h"

#include "agent/checks/types.h"

#include <algorithm>
#include <set>

namespace muster::agent::checks {
namespace {

using namespace std::chrono_literals;

// The one place where check types are registered: a new type is one line here,
// one declaration in types.h and one file beside this one.
constexpr check_type registered[] = {
    {"disk_usage", read_disk_usage},
    {"inode_usage", read_inode_usage},
    {"memory_available", read_memory_available},
    {"swap_used", read_swap_used},
    {"load_per_core", read_load_per_core},
    {"systemd_unit", read_systemd_unit},
    {"process", read_process},
    {"tcp_connect", read_tcp_connect},
    {"http", read_http},
    {"certificate_expiry", read_certificate_expiry},
    {"file_age", read_file_age},
    {"command", read_command},
};

bool id_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ':' || c == '-';
}

std::optional<std::string> id_problem(std::string_view id) {
    if (id.empty()) return "a check id cannot be empty";
    if (id.size() > max_check_id_length)
        return "a check id has at most " + std::to_string(max_check_id_length) + " characters";
    if (!std::all_of(id.begin(), id.end(), id_char))
        return "a check id may contain only letters, digits and _ . : - (got '" + std::string(id) +
               "')";
    return std::nullopt;
}

const check_type* find_type(std::string_view name) {
    for (const auto& t : registered)
        if (t.name == name) return &t;
    return nullptr;
}

std::optional<std::string> type_problem(std::string_view name) {
    if (find_type(name)) return std::nullopt;
    std::string names;
    for (const auto& t : registered) names += (names.empty() ? "" : ", ") + std::string(t.name);
    return "unknown check type '" + std::string(name) + "' (expected one of: " + names + ")";
}

check_config read_check(config_map& map) {
    check_config c;
    c.id = map.get_string("id", id_problem);
    c.type = map.get_string("type", type_problem);
    c.interval = map.get_duration("interval", 5min, 1s, 24h * 7);
    c.timeout = map.get_duration("timeout", 10s, 100ms, 1h);
    c.severity = map.get_enum("severity", {"high", "medium", "low"}, "medium");
    c.run = find_type(c.type)->read(map);
    return c;
}

}  // namespace

std::span<const check_type> all_check_types() {
    return registered;
}

std::vector<check_config> read_checks(config_map& root) {
    std::vector<check_config> checks;
    std::set<std::string, std::less<>> ids;
    for (auto& map : root.get_map_list("checks", max_checks)) {
        auto check = read_check(map);
        if (!ids.insert(check.id).second) map.fail("id", "duplicate check id '" + check.id + "'");
        checks.push_back(std::move(check));
    }
    return checks;
}

std::int64_t expected_interval_seconds(std::chrono::milliseconds inventory_interval,
                                       const std::vector<check_config>& checks) {
    auto shortest = inventory_interval;
    for (const auto& c : checks) shortest = std::min(shortest, c.interval);
    return std::max<std::int64_t>(
        1, std::chrono::duration_cast<std::chrono::seconds>(shortest).count());
}

}  // namespace muster::agent::checks
