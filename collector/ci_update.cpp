#include "collector/ci_update.h"

#include "collector/agent_state.h"
#include "collector/history.h"
#include "collector/json_bind.h"
#include "collector/reconcile.h"
#include "collector/software_table.h"
#include "common/inventory_state.h"

#include <span>
#include <stdexcept>

namespace muster::collector {

namespace json = boost::json;

namespace {

// ----------------------------------------------------------------------------------------
// The normalized tables. Column names are the JSON field names of the rows. Software is the
// one section not written by the generic statements below: its rows are split into packages
// and installs (software_table.h), and ci_software is a view of them.

struct row_table {
    std::string_view section;
    std::string_view table;
    std::span<const std::string_view> key_columns;
    std::span<const std::string_view> columns;  // all, keys included
};

constexpr std::string_view software_keys[] = {"source", "name", "arch"};
constexpr std::string_view software_columns[] = {"source",       "name",   "arch",      "version",
                                                 "installed_at", "vendor", "size_bytes"};
constexpr std::string_view name_key[] = {"name"};
constexpr std::string_view disks_columns[] = {"name",       "model",      "serial",    "wwn",
                                              "size_bytes", "rotational", "removable", "type"};
constexpr std::string_view filesystems_keys[] = {"mountpoint"};
constexpr std::string_view filesystems_columns[] = {"mountpoint", "device", "type", "total_bytes",
                                                    "read_only"};
constexpr std::string_view services_columns[] = {"name", "load_state", "active_state", "sub_state",
                                                 "enabled"};
constexpr std::string_view ports_keys[] = {"protocol", "address", "port"};
constexpr std::string_view ports_columns[] = {"protocol", "address", "port",
                                              "family",   "pid",     "process"};
constexpr std::string_view users_columns[] = {"name", "uid", "gid", "home", "shell"};

constexpr row_table row_tables[] = {
    {"software", "ci_software", software_keys, software_columns},
    {"disks", "ci_disks", name_key, disks_columns},
    {"filesystems", "ci_filesystems", filesystems_keys, filesystems_columns},
    {"services", "ci_services", name_key, services_columns},
    {"listening_ports", "ci_listening_ports", ports_keys, ports_columns},
    {"users", "ci_users", name_key, users_columns},
};

bool is_software(const row_table& table) {
    return table.section == "software";
}

const row_table* find_row_table(std::string_view section) {
    for (const auto& table : row_tables) {
        if (table.section == section) return &table;
    }
    return nullptr;
}

std::string insert_sql(const row_table& table) {
    std::string sql = "INSERT OR REPLACE INTO " + std::string(table.table) + " (ci_id";
    std::string values = "?1";
    int index = 2;
    for (auto column : table.columns) {
        sql += ", " + std::string(column);
        values += ", ?" + std::to_string(index++);
    }
    return sql + ") VALUES (" + values + ")";
}

std::string delete_sql(const row_table& table) {
    std::string sql = "DELETE FROM " + std::string(table.table) + " WHERE ci_id = ?1";
    int index = 2;
    for (auto column : table.key_columns) {
        sql += " AND " + std::string(column) + " IS ?" + std::to_string(index++);
    }
    return sql;
}

// The state allows a row without a key field (it counts as null), the tables' keys do not:
// the report is malformed, not the database (found by report_fuzz).
void check_keys(const row_table& table, const row_pointers& rows) {
    for (const auto* row : rows) {
        for (auto column : table.key_columns) {
            const auto* key = row->if_contains(column);
            if (!key || key->is_null()) {
                throw std::invalid_argument("a row of '" + std::string(table.section) +
                                            "' has no '" + std::string(column) + "'");
            }
        }
    }
}

// fresh: the CI has none of the rows' keys yet, so none needs replacing.
void insert_rows(statement_cache& sql, const row_table& table, std::int64_t ci_id,
                 const row_pointers& rows, bool fresh) {
    check_keys(table, rows);
    if (is_software(table)) {
        insert_software(sql, ci_id, rows, fresh);
        return;
    }
    auto insert = sql(insert_sql(table));
    for (const auto* row : rows) {
        (*insert).reset();
        insert->bind(1, ci_id);
        int index = 2;
        for (auto column : table.columns) bind_json(*insert, index++, row->if_contains(column));
        insert->step();
    }
}

void insert_rows(statement_cache& sql, const row_table& table, std::int64_t ci_id,
                 const json::array& rows, bool fresh) {
    row_pointers objects;
    objects.reserve(rows.size());
    for (const auto& row : rows) {
        if (row.is_object()) objects.push_back(&row.get_object());
    }
    insert_rows(sql, table, ci_id, objects, fresh);
}

void delete_keys(statement_cache& sql, const row_table& table, std::int64_t ci_id,
                 const json::array& keys) {
    if (is_software(table)) {
        remove_software(sql, ci_id, keys);
        return;
    }
    auto remove = sql(delete_sql(table));
    for (const auto& key : keys) {
        if (!key.is_array() || key.get_array().size() != table.key_columns.size()) continue;
        (*remove).reset();
        remove->bind(1, ci_id);
        int index = 2;
        for (const auto& part : key.get_array()) bind_json(*remove, index++, &part);
        remove->step();
    }
}

void delete_all(statement_cache& sql, std::string_view table, std::int64_t ci_id) {
    auto remove = sql("DELETE FROM " + std::string(table) + " WHERE ci_id = ?1");
    remove->bind(1, ci_id);
    remove->step();
}

void delete_all_rows(statement_cache& sql, const row_table& table, std::int64_t ci_id) {
    if (is_software(table)) {
        remove_all_software(sql, ci_id);
    } else {
        delete_all(sql, table.table, ci_id);
    }
}

// A row section's change: rows added or changed are written whole, removed keys deleted;
// a "set" or "unset" replaces the whole table of the CI.
void apply_row_change(statement_cache& sql, const row_table& table, std::int64_t ci_id,
                      const json::object& change, const json::value* new_value) {
    if (change.contains("set") || change.contains("unset")) {
        delete_all_rows(sql, table, ci_id);
        if (new_value && new_value->is_array())
            insert_rows(sql, table, ci_id, new_value->get_array(), true);
        return;
    }
    if (auto* removed = change.if_contains("removed"); removed && removed->is_array()) {
        delete_keys(sql, table, ci_id, removed->get_array());
    }
    for (auto list : {"added", "changed"}) {
        if (auto* rows = change.if_contains(list); rows && rows->is_array()) {
            insert_rows(sql, table, ci_id, rows->get_array(), false);
        }
    }
}

void write_network(statement_cache& sql, std::int64_t ci_id, const json::value* network) {
    delete_all(sql, "ci_interfaces", ci_id);
    delete_all(sql, "ci_addresses", ci_id);
    if (!network || !network->is_object()) return;
    auto* interfaces = network->get_object().if_contains("interfaces");
    if (!interfaces || !interfaces->is_array()) return;
    auto insert_interface =
        sql("INSERT OR REPLACE INTO ci_interfaces (ci_id, name, mac, mtu, state, speed_mbps, type) "
            "VALUES (?1, ?2, lower(?3), ?4, ?5, ?6, ?7)");
    auto insert_address =
        sql("INSERT OR REPLACE INTO ci_addresses (ci_id, interface, address, family, prefix) "
            "VALUES (?1, ?2, ?3, ?4, ?5)");
    for (const auto& item : interfaces->get_array()) {
        if (!item.is_object()) continue;
        const auto& interface = item.get_object();
        auto* name = interface.if_contains("name");
        if (!name || !name->is_string()) continue;
        (*insert_interface).reset();
        insert_interface->bind(1, ci_id);
        int index = 2;
        for (auto field : {"name", "mac", "mtu", "state", "speed_mbps", "type"}) {
            bind_json(*insert_interface, index++, interface.if_contains(field));
        }
        insert_interface->step();
        auto* addresses = interface.if_contains("addresses");
        if (!addresses || !addresses->is_array()) continue;
        for (const auto& address : addresses->get_array()) {
            if (!address.is_object() || !address.get_object().if_contains("address")) continue;
            (*insert_address).reset();
            insert_address->bind(1, ci_id);
            bind_json(*insert_address, 2, name);
            index = 3;
            for (auto field : {"address", "family", "prefix"}) {
                bind_json(*insert_address, index++, address.get_object().if_contains(field));
            }
            insert_address->step();
        }
    }
}

// ----------------------------------------------------------------------------------------
// CI attributes: the scalar columns of cis, from the value sections.

struct attribute_column {
    std::string_view section;
    std::string_view path;  // field, or "parent.field"
    std::string_view column;
};

constexpr attribute_column attribute_columns[] = {
    {"system", "hostname", "hostname"},
    {"system", "fqdn", "fqdn"},
    {"system", "container", "container"},
    {"system", "virtualization", "virtualization"},
    {"system", "timezone", "timezone"},
    {"system", "tags", "tags"},
    {"hardware", "vendor", "hw_vendor"},
    {"hardware", "product", "hw_product"},
    {"hardware", "serial", "hw_serial"},
    {"hardware", "product_uuid", "hw_product_uuid"},
    {"hardware", "bios.version", "bios_version"},
    {"hardware", "chassis.type", "chassis_type"},
    {"os", "id", "os_id"},
    {"os", "name", "os_name"},
    {"os", "version_id", "os_version_id"},
    {"os", "pretty_name", "os_pretty_name"},
    {"os", "kernel_release", "kernel_release"},
    {"os", "arch", "arch"},
    {"cpu", "model", "cpu_model"},
    {"cpu", "sockets", "cpu_sockets"},
    {"cpu", "physical_cores", "cpu_physical_cores"},
    {"cpu", "logical_cores", "cpu_logical_cores"},
    {"memory", "total_bytes", "memory_total_bytes"},
    {"memory", "swap_total_bytes", "swap_total_bytes"},
    {"network", "default_gateways", "default_gateways"},
    {"network", "dns_servers", "dns_servers"},
};

const json::value* find_path(const json::value* value, std::string_view path) {
    while (value && value->is_object()) {
        auto dot = path.find('.');
        value = value->get_object().if_contains(path.substr(0, dot));
        if (dot == std::string_view::npos) return value;
        path.remove_prefix(dot + 1);
    }
    return nullptr;
}

// One UPDATE per section: "UPDATE cis SET a = ?2, b = ?3 ... WHERE id = ?1".
std::string attributes_sql(std::string_view section) {
    std::string sql = "UPDATE cis SET ";
    int index = 2;
    for (const auto& attribute : attribute_columns) {
        if (attribute.section != section) continue;
        if (index > 2) sql += ", ";
        sql += std::string(attribute.column) + " = ?" + std::to_string(index++);
    }
    return index == 2 ? std::string() : sql + " WHERE id = ?1";
}

void write_attributes(statement_cache& sql, std::int64_t ci_id, std::string_view section,
                      const json::value* value) {
    auto text = attributes_sql(section);
    if (text.empty()) return;  // a section without columns (schema_version, ...)
    auto update = sql(text);
    update->bind(1, ci_id);
    int index = 2;
    for (const auto& attribute : attribute_columns) {
        if (attribute.section != section) continue;
        bind_json(*update, index++, find_path(value, attribute.path));
    }
    update->step();
}

void write_identity(statement_cache& sql, std::int64_t ci_id, const host_identity& identity) {
    auto update =
        sql("UPDATE cis SET product_uuid = ?2, serial = ?3, machine_id = ?4, primary_mac = ?5 "
            "WHERE id = ?1");
    update->bind(1, ci_id);
    int index = 2;
    for (const auto* field :
         {&identity.product_uuid, &identity.serial, &identity.machine_id, &identity.primary_mac}) {
        if (*field) {
            update->bind(index++, **field);
        } else {
            update->bind(index++, nullptr);
        }
    }
    update->step();
}

// Updates every table of the CI for the sections named in changes.
void write_sections(statement_cache& sql, std::int64_t ci_id, const json::object& changes,
                    const json::object& new_sections) {
    for (const auto& member : changes) {
        auto* new_value = new_sections.if_contains(member.key());
        if (auto* table = find_row_table(member.key())) {
            if (member.value().is_object()) {
                apply_row_change(sql, *table, ci_id, member.value().get_object(), new_value);
            }
        } else if (member.key() == "network") {
            write_network(sql, ci_id, new_value);
            write_attributes(sql, ci_id, "network", new_value);
        } else {
            write_attributes(sql, ci_id, member.key(), new_value);
        }
    }
}

// Fills the tables of a new CI from a whole state: every row inserted, no diff needed.
void write_new_sections(statement_cache& sql, std::int64_t ci_id, const full_state& state) {
    for (const auto& [name, rows] : state.rows()) {
        if (auto* table = find_row_table(name)) insert_rows(sql, *table, ci_id, rows, true);
    }
    for (const auto& member : state.values()) {
        if (find_row_table(member.key())) {
            continue;  // rows above; a row section that is not an array has none
        } else if (member.key() == "network") {
            write_network(sql, ci_id, &member.value());
            write_attributes(sql, ci_id, "network", &member.value());
        } else {
            write_attributes(sql, ci_id, member.key(), &member.value());
        }
    }
}

// ----------------------------------------------------------------------------------------
// Finding the CI

std::int64_t create_ci(statement_cache& sql, const report_origin& origin, std::string_view rule,
                       bool held, std::optional<std::int64_t> duplicate_of) {
    auto insert =
        sql("INSERT INTO cis (first_seen, last_seen, matched_rule, current_agent_id, held, "
            "duplicate_identity, duplicate_of) VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6)");
    insert->bind(1, origin.now);
    insert->bind(2, rule);
    insert->bind(3, origin.agent_id);
    insert->bind(4, held ? 1 : 0);
    insert->bind(5, duplicate_of ? 1 : 0);
    if (duplicate_of) {
        insert->bind(6, *duplicate_of);
    } else {
        insert->bind(6, nullptr);
    }
    insert->step();
    return sql.db().last_insert_rowid();
}

json::object load_full_state(statement_cache& sql, std::string_view agent_id) {
    return load_state(sql, agent_id);
}

history_origin history_for(const report_origin& origin, std::int64_t ci_id) {
    return history_origin{ci_id, origin.now, origin.agent_id, origin.seq};
}

// A CI of its own for the agent, with every row of its state and one "discovered" record.
std::int64_t discover(statement_cache& sql, const report_origin& origin, const full_state& state,
                      const host_identity& identity, std::string_view rule, bool held,
                      std::optional<std::int64_t> duplicate_of) {
    auto ci_id = create_ci(sql, origin, rule, held, duplicate_of);
    write_new_sections(sql, ci_id, state);
    if (!held) write_identity(sql, ci_id, identity);
    std::vector<change_record> records{
        {"ci", "", "discovered", std::nullopt, identity.hostname.value_or(std::string(rule))}};
    if (duplicate_of) {
        records.push_back(
            {"ci", "identity", "duplicate", std::nullopt, std::to_string(*duplicate_of)});
    }
    write_history(sql, history_for(origin, ci_id), records);
    return ci_id;
}

void flag_duplicate(statement_cache& sql, const report_origin& origin, std::int64_t ci_id,
                    std::int64_t twin) {
    auto update = sql("UPDATE cis SET duplicate_identity = 1 WHERE id = ?1");
    update->bind(1, ci_id);
    update->step();
    write_history(sql, history_for(origin, ci_id),
                  {{"ci", "identity", "duplicate", std::nullopt, std::to_string(twin)}});
}

std::string duplicate_rule(identity_rule rule) {
    return "duplicate:" + std::string(to_string(rule));
}

// The agent's first report: reconcile its identity with the CIs known.
std::int64_t attach(statement_cache& sql, const report_origin& origin, const full_state& state) {
    auto identity = identity_of(state.values());
    if (!is_identifiable(identity)) return discover(sql, origin, state, identity, "held", true, {});
    auto match = find_matching_ci(sql, identity, origin.agent_id, origin.agent_enrolled_at);
    if (!match) return discover(sql, origin, state, identity, "new", false, {});
    if (match->clone) {
        auto ci_id = discover(sql, origin, state, identity, duplicate_rule(match->rule), false,
                              match->ci_id);
        flag_duplicate(sql, origin, match->ci_id, ci_id);
        return ci_id;
    }
    // Taken over (a reimage, or a reinstalled agent): the CI keeps its history and records
    // what differs from the last state reported for it.
    json::object old_state;
    if (match->owner) old_state = load_full_state(sql, *match->owner);
    auto whole = state.every();
    auto changes = compute_changes(old_state, whole);
    write_sections(sql, match->ci_id, changes, whole);
    write_identity(sql, match->ci_id, identity);
    auto records = describe_changes(old_state, whole, changes);
    records.insert(records.begin(), {"ci", "agent", "attached", match->owner, origin.agent_id});
    write_history(sql, history_for(origin, match->ci_id), records);
    auto update = sql("UPDATE cis SET matched_rule = ?2, current_agent_id = ?3 WHERE id = ?1");
    update->bind(1, match->ci_id);
    update->bind(2, to_string(match->rule));
    update->bind(3, origin.agent_id);
    update->step();
    return match->ci_id;
}

std::optional<std::string> current_agent_of(statement_cache& sql, std::int64_t ci_id) {
    auto select = sql("SELECT current_agent_id FROM cis WHERE id = ?1");
    select->bind(1, ci_id);
    if (!select->step() || select->column_is_null(0)) return std::nullopt;
    return select->column_text(0);
}

void mark_seen(statement_cache& sql, const report_origin& origin, std::int64_t ci_id) {
    {
        auto revived =
            sql("INSERT INTO ci_history (ci_id, time, section, key, change, old_value, new_value, "
                "agent_id, seq) SELECT id, ?2, 'ci', 'state', 'changed', state, 'active', ?3, ?4 "
                "FROM cis WHERE id = ?1 AND state != 'active'");
        revived->bind(1, ci_id);
        revived->bind(2, origin.now);
        revived->bind(3, origin.agent_id);
        revived->bind(4, origin.seq);
        revived->step();
    }
    auto update = sql("UPDATE cis SET last_seen = ?2, state = 'active' WHERE id = ?1");
    update->bind(1, ci_id);
    update->bind(2, origin.now);
    update->step();
}

}  // namespace

std::int64_t update_ci(statement_cache& sql, const report_origin& origin,
                       const json::object& old_sections, const json::object& new_sections,
                       const full_state* full_new_state, const json::object* delta_changes) {
    std::int64_t ci_id = 0;
    // A delta's whole state, when needed: from the stored texts (make_state of a state is
    // that state).
    std::optional<json::object> loaded;
    std::optional<full_state> stored;
    auto whole_state = [&]() -> const full_state& {
        if (full_new_state) return *full_new_state;
        if (!stored) stored.emplace(loaded.emplace(load_full_state(sql, origin.agent_id)));
        return *stored;
    };
    if (!origin.ci_id) {
        ci_id = attach(sql, origin, whole_state());
    } else if (auto owner = current_agent_of(sql, *origin.ci_id); owner != origin.agent_id) {
        // Another agent took this CI over, yet this one still reports: a clone noticed late.
        // It moves to a CI of its own, flagged, rather than fighting over one.
        const auto& state = whole_state();
        ci_id = discover(sql, origin, state, identity_of(state.values()), "duplicate:late", false,
                         *origin.ci_id);
        flag_duplicate(sql, origin, *origin.ci_id, ci_id);
    } else {
        ci_id = *origin.ci_id;
        json::object computed;
        if (!delta_changes) computed = compute_changes(old_sections, new_sections);
        const auto& changes = delta_changes ? *delta_changes : computed;
        if (!changes.empty()) {
            write_sections(sql, ci_id, changes, new_sections);
            auto held = sql("SELECT held FROM cis WHERE id = ?1");
            held->bind(1, ci_id);
            // Identity columns come from system, hardware and network only.
            bool identity_changed = changes.contains("system") || changes.contains("hardware") ||
                                    changes.contains("network");
            if (held->step() && held->column_int64(0) == 0 && identity_changed) {
                write_identity(sql, ci_id, identity_of(whole_state().values()));
            }
            write_history(sql, history_for(origin, ci_id),
                          describe_changes(old_sections, new_sections, changes));
        }
    }
    mark_seen(sql, origin, ci_id);
    return ci_id;
}

}  // namespace muster::collector
