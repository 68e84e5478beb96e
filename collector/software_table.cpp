#include "collector/software_table.h"

#include "collector/json_bind.h"

#include <string_view>

namespace muster::collector {

namespace json = boost::json;

namespace {

// The fields of a package in the order of the index software_packages_name, and of the
// parameters ?1 to ?6 below. IS, not =, so that a missing vendor or size matches another.
constexpr std::string_view package_fields[] = {"name", "version", "source",
                                               "arch", "vendor",  "size_bytes"};

void bind_package(sqlite_statement& statement, const json::object& row) {
    int index = 1;
    for (auto field : package_fields) bind_json(statement, index++, row.if_contains(field));
}

// The package's id, its row added the first time any CI reports it. The writer is the only
// connection that adds packages, so a lookup then an insert cannot race.
std::int64_t package_id(statement_cache& sql, const json::object& row) {
    {
        auto find =
            sql("SELECT id FROM software_packages WHERE name IS ?1 AND version IS ?2 AND "
                "source IS ?3 AND arch IS ?4 AND vendor IS ?5 AND size_bytes IS ?6");
        bind_package(*find, row);
        if (find->step()) return find->column_int64(0);
    }
    auto insert =
        sql("INSERT INTO software_packages (name, version, source, arch, vendor, size_bytes) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    bind_package(*insert, row);
    insert->step();
    return sql.db().last_insert_rowid();
}

// Removes the CI's package of this key, whatever its version.
void remove_key(statement_cache& sql, std::int64_t ci_id, const json::value* source,
                const json::value* name, const json::value* arch) {
    auto remove =
        sql("DELETE FROM ci_software_installs WHERE ci_id = ?1 AND package_id IN "
            "(SELECT id FROM software_packages WHERE name IS ?2 AND source IS ?3 AND arch IS ?4)");
    remove->bind(1, ci_id);
    bind_json(*remove, 2, name);
    bind_json(*remove, 3, source);
    bind_json(*remove, 4, arch);
    remove->step();
}

}  // namespace

void insert_software(statement_cache& sql, std::int64_t ci_id, const row_pointers& rows,
                     bool fresh) {
    for (const auto* row : rows) {
        if (!fresh) {
            remove_key(sql, ci_id, row->if_contains("source"), row->if_contains("name"),
                       row->if_contains("arch"));
        }
        auto package = package_id(sql, *row);
        auto insert =
            sql("INSERT OR REPLACE INTO ci_software_installs (ci_id, package_id, installed_at) "
                "VALUES (?1, ?2, ?3)");
        insert->bind(1, ci_id);
        insert->bind(2, package);
        bind_json(*insert, 3, row->if_contains("installed_at"));
        insert->step();
    }
}

void remove_software(statement_cache& sql, std::int64_t ci_id, const json::array& keys) {
    for (const auto& key : keys) {
        if (!key.is_array() || key.get_array().size() != 3) continue;
        const auto& parts = key.get_array();
        remove_key(sql, ci_id, &parts[0], &parts[1], &parts[2]);
    }
}

void remove_all_software(statement_cache& sql, std::int64_t ci_id) {
    auto remove = sql("DELETE FROM ci_software_installs WHERE ci_id = ?1");
    remove->bind(1, ci_id);
    remove->step();
}

}  // namespace muster::collector
