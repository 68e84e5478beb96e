// The SQLite implementation of admin_queries (queries.h). Hosts, software,
// agents, services and tokens here; incidents and problems in
// incident_reads.cpp.
#include "collector/admin/catalogue.h"
#include "collector/admin/incident_reads.h"
#include "collector/admin/paging.h"
#include "collector/admin/queries.h"
#include "collector/admin/read_pool.h"
#include "collector/admin/sql_builder.h"
#include "common/crypto.h"
#include "common/version_compare.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>

namespace muster::collector::admin {
namespace {

namespace json = boost::json;

std::string lower_ascii(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// A MAC as the CMDB stores it: lower case, ':' separators.
std::string normalized_mac(const std::string& text) {
    auto out = lower_ascii(text);
    std::replace(out.begin(), out.end(), '-', ':');
    return out;
}

// ----------------------------------------------------------------------------------------
// Hosts

constexpr std::string_view host_columns =
    "c.id, c.hostname, c.fqdn, coalesce(c.os_pretty_name, c.os_name) AS os, "
    "c.os_id, "
    "c.os_version_id AS os_version, c.state, c.first_seen, c.last_seen, "
    "coalesce(c.serial, c.hw_serial) AS serial, "
    "coalesce(c.product_uuid, c.hw_product_uuid) AS product_uuid, "
    "c.machine_id, c.primary_mac, "
    "c.tags, muster_service(c.hostname, c.tags, c.os_id, c.os_name) AS "
    "service, "
    "c.current_agent_id AS agent_id, c.matched_rule, c.duplicate_identity, "
    "c.held";
constexpr int host_column_count = 19;

json::value json_list(const json::value& text) {
    if (!text.is_string()) return json::array{};
    boost::system::error_code ec;
    auto parsed = json::parse(text.get_string(), ec);
    return ec ? json::value(json::array{}) : parsed;
}

json::object host_item(sqlite_statement& select) {
    auto item = row_object(select, 0, host_column_count);
    item["tags"] = json_list(item["tags"]);
    for (auto flag : {"duplicate_identity", "held"}) {
        auto& value = item[flag];
        value = value.is_int64() && value.get_int64() != 0;
    }
    return item;
}

std::string version_condition(version_op op, const std::string& placeholder) {
    std::string compare = "muster_version_cmp(s.source, s.version, " + placeholder + ")";
    switch (op) {
        case version_op::lt:
            return compare + " < 0";
        case version_op::le:
            return compare + " <= 0";
        case version_op::eq:
            return compare + " = 0";
        case version_op::ge:
            return compare + " >= 0";
        case version_op::gt:
            break;
    }
    return compare + " > 0";
}

void add_search(sql_where& where, sql_params& params, const std::string& search) {
    auto text = params.add(search);
    auto mac = params.add(normalized_mac(search));
    where.add("(instr(lower(c.hostname), lower(" + text + ")) > 0 OR instr(lower(c.fqdn), lower(" +
              text + ")) > 0 OR lower(c.serial) = lower(" + text +
              ") OR lower(c.hw_serial) = lower(" + text + ") OR lower(c.product_uuid) = lower(" +
              text + ") OR lower(c.hw_product_uuid) = lower(" + text +
              ") OR c.id IN (SELECT ci_id FROM ci_addresses WHERE address IN (" + text +
              ", lower(" + text +
              "))) OR c.id IN (SELECT ci_id FROM ci_interfaces WHERE mac = " + mac + "))");
}

void add_host_filters(sql_where& where, sql_params& params, const host_filter& filter) {
    if (filter.search) add_search(where, params, *filter.search);
    if (filter.os) {
        auto os = params.add(*filter.os);
        where.add("(c.os_id = " + os + " OR instr(lower(c.os_pretty_name), lower(" + os +
                  ")) > 0 OR instr(lower(c.os_name), lower(" + os + ")) > 0)");
    }
    if (filter.tag) {
        where.add(
            "EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(c.tags) "
            "THEN c.tags ELSE '[]' "
            "END) AS t WHERE t.value = " +
            params.add(*filter.tag) + ")");
    }
    if (filter.service) {
        where.add("muster_service(c.hostname, c.tags, c.os_id, c.os_name) = " +
                  params.add(*filter.service));
    }
    if (filter.state) where.add("c.state = " + params.add(*filter.state));
}

// ----------------------------------------------------------------------------------------
// A host's sections: one table each, ci_id first, so "SELECT *" from column 1
// on is the row.

struct section_table {
    std::string_view section;
    std::string_view select;
};

constexpr section_table section_tables[] = {
    {"software", "SELECT * FROM ci_software WHERE ci_id = ?1 ORDER BY name, arch, source"},
    {"disks", "SELECT * FROM ci_disks WHERE ci_id = ?1 ORDER BY name"},
    {"filesystems", "SELECT * FROM ci_filesystems WHERE ci_id = ?1 ORDER BY mountpoint"},
    {"services", "SELECT * FROM ci_services WHERE ci_id = ?1 ORDER BY name"},
    {"listening_ports",
     "SELECT * FROM ci_listening_ports WHERE ci_id = ?1 "
     "ORDER BY protocol, address, port"},
    {"users", "SELECT * FROM ci_users WHERE ci_id = ?1 ORDER BY name"},
};

constexpr std::string_view detail_columns =
    ", c.hw_vendor, c.hw_product, c.hw_serial, c.hw_product_uuid, "
    "c.bios_version, "
    "c.chassis_type, c.virtualization, c.container, c.timezone, "
    "c.kernel_release, c.arch, "
    "c.cpu_model, c.cpu_sockets, c.cpu_physical_cores, c.cpu_logical_cores, "
    "c.memory_total_bytes, c.swap_total_bytes, c.default_gateways, "
    "c.dns_servers, c.duplicate_of";

json::object pick(const json::object& row,
                  std::initializer_list<std::pair<const char*, const char*>> names) {
    json::object out;
    for (const auto& [from, to] : names) {
        if (const auto* value = row.if_contains(from)) out[to] = *value;
    }
    return out;
}

void add_detail_sections(json::object& item, const json::object& extra) {
    item["hardware"] = pick(extra, {{"hw_vendor", "vendor"},
                                    {"hw_product", "product"},
                                    {"hw_serial", "serial"},
                                    {"hw_product_uuid", "product_uuid"},
                                    {"bios_version", "bios_version"},
                                    {"chassis_type", "chassis_type"},
                                    {"virtualization", "virtualization"},
                                    {"container", "container"}});
    item["cpu"] = pick(extra, {{"cpu_model", "model"},
                               {"cpu_sockets", "sockets"},
                               {"cpu_physical_cores", "physical_cores"},
                               {"cpu_logical_cores", "logical_cores"}});
    item["memory"] = pick(
        extra, {{"memory_total_bytes", "total_bytes"}, {"swap_total_bytes", "swap_total_bytes"}});
    for (auto name : {"timezone", "kernel_release", "arch", "duplicate_of"})
        item[name] = extra.at(name);
    item["default_gateways"] = json_list(extra.at("default_gateways"));
    item["dns_servers"] = json_list(extra.at("dns_servers"));
}

json::array interfaces_of(statement_cache& sql, std::int64_t ci_id) {
    std::map<std::string, json::array> addresses;
    auto select_addresses =
        sql("SELECT interface, address, family, prefix FROM "
            "ci_addresses WHERE ci_id = ?1 "
            "ORDER BY interface, address");
    select_addresses->bind(1, ci_id);
    while (select_addresses->step()) {
        addresses[select_addresses->column_text(0)].push_back(row_object(*select_addresses, 1));
    }
    json::array interfaces;
    auto select = sql("SELECT * FROM ci_interfaces WHERE ci_id = ?1 ORDER BY name");
    select->bind(1, ci_id);
    while (select->step()) {
        auto row = row_object(*select, 1);
        auto found = addresses.find(select->column_text(1));
        row["addresses"] = found == addresses.end() ? json::array{} : std::move(found->second);
        interfaces.push_back(std::move(row));
    }
    return interfaces;
}

// ----------------------------------------------------------------------------------------

class sqlite_queries final : public admin_queries {
  public:
    explicit sqlite_queries(sqlite_queries_options options)
        : pool_(options.database, options.connections, options.services),
          services_(std::move(options.services)),
          catalogue_(options.database, options.catalogue_max_lag) {}

    page hosts(const host_filter& filter, const page_request& request) override;
    std::vector<std::int64_t> resolve_host(std::string_view id_or_hostname) override;
    std::optional<json::object> host(std::int64_t ci_id) override;
    page host_history(std::int64_t ci_id, const history_filter& filter,
                      const page_request& request) override;
    page software(const std::optional<std::string>& search, const page_request& request) override;
    std::optional<json::object> software_versions(std::string_view name) override;
    page agents(const std::optional<std::string>& status, const page_request& request) override;
    std::optional<json::object> agent(std::string_view agent_id) override;
    json::array services() override;

    page incidents(const incident_filter& filter, const page_request& request,
                   std::int64_t now) override {
        auto connection = pool_.acquire();
        return read_incidents(connection->sql, filter, request, now);
    }
    std::optional<json::object> incident(std::int64_t id, bool with_events,
                                         std::int64_t now) override {
        auto connection = pool_.acquire();
        return read_incident(connection->sql, id, with_events, now);
    }
    page problems(const std::optional<std::string>& state, const page_request& request) override {
        auto connection = pool_.acquire();
        return read_problems(connection->sql, state, request);
    }

    std::optional<api_token> find_token(std::string_view token_sha256) override;
    page tokens(const page_request& request) override;
    std::optional<json::object> token(std::int64_t id) override;

  private:
    read_pool pool_;
    std::vector<incidents::service_definition> services_;
    software_catalogue catalogue_;
};

page sqlite_queries::hosts(const host_filter& filter, const page_request& request) {
    sql_params params;
    sql_where where;
    where.add("c.id > " +
              params.add(key_int(request, 0, std::numeric_limits<std::int64_t>::min())));
    add_host_filters(where, params, filter);
    auto connection = pool_.acquire();
    if (!filter.software) {
        auto limit = params.add(static_cast<std::int64_t>(request.limit + 1));
        auto select = connection->sql("SELECT " + std::string(host_columns) + " FROM cis c" +
                                      where.text() + " ORDER BY c.id LIMIT " + limit);
        params.bind(*select);
        return collect(*select, request.limit, host_item, id_key);
    }
    // Driven by the software index (name, version): the matching packages first,
    // then their CIs; one host may have the package for several architectures.
    where.add("s.name = " + params.add(*filter.software));
    if (filter.version) {
        where.add(version_condition(filter.version->op, params.add(filter.version->version)));
    }
    auto select = connection->sql("SELECT " + std::string(host_columns) +
                                  ", s.name, s.version, s.source, s.arch FROM ci_software s "
                                  "CROSS JOIN cis c ON c.id = s.ci_id" +
                                  where.text() + " ORDER BY c.id, s.arch, s.source");
    params.bind(*select);
    page out;
    while (select->step()) {
        std::int64_t id = select->column_int64(0);
        bool same = !out.items.empty() && out.items.back().as_object().at("id").as_int64() == id;
        if (!same && out.items.size() == request.limit) {
            out.next_key = id_key(out.items.back().as_object());
            break;
        }
        if (!same) {
            auto item = host_item(*select);
            item["software"] = json::array{};
            out.items.push_back(std::move(item));
        }
        out.items.back().as_object()["software"].as_array().push_back(
            row_object(*select, host_column_count));
    }
    return out;
}

std::vector<std::int64_t> sqlite_queries::resolve_host(std::string_view id_or_hostname) {
    auto connection = pool_.acquire();
    bool digits = !id_or_hostname.empty() && id_or_hostname.size() <= 18 &&
                  std::all_of(id_or_hostname.begin(), id_or_hostname.end(),
                              [](char c) { return c >= '0' && c <= '9'; });
    std::vector<std::int64_t> ids;
    if (digits) {
        auto select = connection->sql("SELECT id FROM cis WHERE id = ?1");
        select->bind(1, static_cast<std::int64_t>(std::stoll(std::string(id_or_hostname))));
        while (select->step()) ids.push_back(select->column_int64(0));
        return ids;
    }
    auto select = connection->sql("SELECT id FROM cis WHERE hostname = ?1 ORDER BY id");
    select->bind(1, id_or_hostname);
    while (select->step()) ids.push_back(select->column_int64(0));
    return ids;
}

std::optional<json::object> sqlite_queries::host(std::int64_t ci_id) {
    auto connection = pool_.acquire();
    // One read transaction, so that every section comes from the same committed
    // state.
    connection->db.exec("BEGIN");
    struct end_read {
        sqlite_database& db;
        ~end_read() {
            try {
                db.exec("COMMIT");
            } catch (...) {
                // A read transaction has nothing to lose; the connection stays usable.
            }
        }
    } guard{connection->db};
    auto select = connection->sql("SELECT " + std::string(host_columns) +
                                  std::string(detail_columns) + " FROM cis c WHERE c.id = ?1");
    select->bind(1, ci_id);
    if (!select->step()) return std::nullopt;
    auto item = host_item(*select);
    add_detail_sections(item, row_object(*select, host_column_count));
    for (const auto& table : section_tables) {
        json::array rows;
        auto rows_select = connection->sql(table.select);
        rows_select->bind(1, ci_id);
        while (rows_select->step()) rows.push_back(row_object(*rows_select, 1));
        item[table.section] = std::move(rows);
    }
    item["interfaces"] = interfaces_of(connection->sql, ci_id);
    return item;
}

page sqlite_queries::host_history(std::int64_t ci_id, const history_filter& filter,
                                  const page_request& request) {
    sql_params params;
    sql_where where;
    where.add("ci_id = " + params.add(ci_id));
    where.add("id < " + params.add(key_int(request, 0, std::numeric_limits<std::int64_t>::max())));
    if (filter.since) where.add("time >= " + params.add(*filter.since));
    if (filter.until) where.add("time <= " + params.add(*filter.until));
    if (filter.section) where.add("section = " + params.add(*filter.section));
    auto limit = params.add(static_cast<std::int64_t>(request.limit + 1));
    auto connection = pool_.acquire();
    auto select = connection->sql(
        "SELECT id, time, section, key, change, old_value, "
        "new_value, agent_id, seq FROM "
        "ci_history" +
        where.text() + " ORDER BY id DESC LIMIT " + limit);
    params.bind(*select);
    return collect(
        *select, request.limit, [](sqlite_statement& s) { return row_object(s); }, id_key);
}

page sqlite_queries::software(const std::optional<std::string>& search,
                              const page_request& request) {
    std::shared_ptr<const std::vector<catalogue_entry>> entries;
    {
        auto connection = pool_.acquire();
        entries = catalogue_.current(connection->db);
    }
    auto it = entries->begin();
    if (request.after) {
        auto after = key_string(request, 0);
        it = std::upper_bound(
            entries->begin(), entries->end(), after,
            [](const std::string& key, const catalogue_entry& entry) { return key < entry.name; });
    }
    auto needle = search ? lower_ascii(*search) : std::string();
    page out;
    for (; it != entries->end(); ++it) {
        if (search && lower_ascii(it->name).find(needle) == std::string::npos) continue;
        if (out.items.size() == request.limit) {
            out.next_key = json::array{out.items.back().as_object().at("name")};
            break;
        }
        out.items.push_back(
            json::object{{"name", it->name}, {"versions", it->versions}, {"hosts", it->hosts}});
    }
    return out;
}

std::optional<json::object> sqlite_queries::software_versions(std::string_view name) {
    struct version_row {
        std::string version;
        std::string source;
        std::int64_t hosts;
    };
    std::vector<version_row> rows;
    {
        auto connection = pool_.acquire();
        auto select = connection->sql(
            "SELECT version, source, count(DISTINCT "
            "ci_id) FROM ci_software WHERE name = ?1 "
            "GROUP BY version, source");
        select->bind(1, name);
        while (select->step()) {
            rows.push_back(
                {select->column_text(0), select->column_text(1), select->column_int64(2)});
        }
    }
    if (rows.empty()) return std::nullopt;
    std::sort(rows.begin(), rows.end(), [](const version_row& a, const version_row& b) {
        int order = compare_versions(a.source, a.version, b.version);
        if (order != 0) return order > 0;  // newest first
        return std::tie(a.source, a.version) < std::tie(b.source, b.version);
    });
    json::array versions;
    for (const auto& row : rows) {
        versions.push_back(
            json::object{{"version", row.version}, {"source", row.source}, {"hosts", row.hosts}});
    }
    return json::object{{"name", name}, {"versions", std::move(versions)}};
}

constexpr std::string_view agent_select =
    "SELECT a.agent_id, a.status, coalesce(c.hostname, a.hostname) AS "
    "hostname, a.ci_id, "
    "a.enrolled_at, a.last_seq, a.last_report_at FROM agents a LEFT JOIN cis c "
    "ON c.id = a.ci_id";

page sqlite_queries::agents(const std::optional<std::string>& status, const page_request& request) {
    sql_params params;
    sql_where where;
    if (request.after) {
        auto time = params.add(key_int(request, 0, 0));
        where.add("(a.enrolled_at, a.agent_id) > (" + time + ", " +
                  params.add(key_string(request, 1)) + ")");
    }
    if (status) where.add("a.status = " + params.add(*status));
    auto limit = params.add(static_cast<std::int64_t>(request.limit + 1));
    auto connection = pool_.acquire();
    auto select = connection->sql(std::string(agent_select) + where.text() +
                                  " ORDER BY a.enrolled_at, a.agent_id LIMIT " + limit);
    params.bind(*select);
    return collect(
        *select, request.limit, [](sqlite_statement& s) { return row_object(s); },
        [](const json::object& item) {
            return json::array{item.at("enrolled_at"), item.at("agent_id")};
        });
}

std::optional<json::object> sqlite_queries::agent(std::string_view agent_id) {
    auto connection = pool_.acquire();
    auto select = connection->sql(std::string(agent_select) + " WHERE a.agent_id = ?1");
    select->bind(1, agent_id);
    if (!select->step()) return std::nullopt;
    return row_object(*select);
}

json::array sqlite_queries::services() {
    std::map<std::string, std::int64_t, std::less<>> counts;
    {
        auto connection = pool_.acquire();
        auto select = connection->sql(
            "SELECT muster_service(hostname, tags, os_id, os_name) "
            "AS service, count(*) FROM cis "
            "WHERE state != 'retired' GROUP BY service");
        while (select->step()) {
            if (!select->column_is_null(0))
                counts[select->column_text(0)] = select->column_int64(1);
        }
    }
    json::array out;
    for (const auto& service : services_) {
        auto found = counts.find(service.name);
        out.push_back(json::object{
            {"name", service.name},
            {"owner", service.owner.empty() ? json::value(nullptr) : json::value(service.owner)},
            {"criticality", incidents::to_string(service.criticality)},
            {"hosts", found == counts.end() ? 0 : found->second}});
    }
    return out;
}

std::optional<api_token> sqlite_queries::find_token(std::string_view token_sha256) {
    auto connection = pool_.acquire();
    if (!table_exists(connection->db, "api_tokens")) return std::nullopt;
    // Every live token's hash is compared in constant time (not looked up by an
    // index), so the time taken says nothing about how much of a hash matched.
    auto select = connection->sql(
        "SELECT id, name, role, token_sha256, last_used_at FROM "
        "api_tokens WHERE revoked_at IS "
        "NULL");
    std::optional<api_token> found;
    while (select->step()) {
        bool match = constant_time_equal(select->column_text(3), token_sha256);
        auto token_role = role_from_string(select->column_text(2));
        if (!match || !token_role || found) continue;
        api_token token;
        token.id = select->column_int64(0);
        token.name = select->column_text(1);
        token.role = *token_role;
        if (!select->column_is_null(4)) token.last_used_at = select->column_int64(4);
        found = std::move(token);
    }
    return found;
}

constexpr std::string_view token_columns =
    "SELECT id, name, role, created_at, last_used_at, revoked_at FROM "
    "api_tokens";

page sqlite_queries::tokens(const page_request& request) {
    auto connection = pool_.acquire();
    if (!table_exists(connection->db, "api_tokens")) return {};
    auto select =
        connection->sql(std::string(token_columns) + " WHERE id > ?1 ORDER BY id LIMIT ?2");
    select->bind(1, key_int(request, 0, std::numeric_limits<std::int64_t>::min()));
    select->bind(2, static_cast<std::int64_t>(request.limit + 1));
    return collect(
        *select, request.limit, [](sqlite_statement& s) { return row_object(s); }, id_key);
}

std::optional<json::object> sqlite_queries::token(std::int64_t id) {
    auto connection = pool_.acquire();
    if (!table_exists(connection->db, "api_tokens")) return std::nullopt;
    auto select = connection->sql(std::string(token_columns) + " WHERE id = ?1");
    select->bind(1, id);
    if (!select->step()) return std::nullopt;
    return row_object(*select);
}

}  // namespace

std::string_view to_string(role value) {
    switch (value) {
        case role::viewer:
            return "viewer";
        case role::operator_:
            return "operator";
        case role::admin:
            break;
    }
    return "admin";
}

std::optional<role> role_from_string(std::string_view text) {
    if (text == "viewer") return role::viewer;
    if (text == "operator") return role::operator_;
    if (text == "admin") return role::admin;
    return std::nullopt;
}

std::unique_ptr<admin_queries> open_sqlite_queries(sqlite_queries_options options) {
    return std::make_unique<sqlite_queries>(std::move(options));
}

}  // namespace muster::collector::admin
