// Schema migrations carry an existing database forward (collector/migrations.cpp): a
// database written at version 1, with its agents' states gzip-compressed per section, opens
// at the latest version, and a delta on a state stored at version 1 applies; so does one on
// the blocks of 32 rows that version 5 wrote in a WITHOUT ROWID table. Version 7 splits the
// software table into packages and installs without changing a row the view gives back.
#include "collector/migrations.h"
#include "collector/sqlite_store.h"
#include "common/canonical_json.h"
#include "common/gzip.h"
#include "common/inventory_state.h"
#include "common/sqlite.h"
#include "support/process.h"
#include "unit/collector/store_test_support.h"

#include <boost/json.hpp>

#include <catch2/catch.hpp>

namespace {

namespace json = boost::json;
using muster::collector::ingest_status;

constexpr std::int64_t ci_id = 7;
const std::string agent_id = "agent-of-version-1";

// What the collector of schema version 1 stored for an agent whose last report was seq 5.
void write_version_1(const std::filesystem::path& db_file, const json::object& inventory,
                     bool damaged) {
    muster::sqlite_database db(db_file);
    muster::collector::migrate_to(db, 1);
    db.exec(
        "INSERT INTO cis (id, hostname, first_seen, last_seen, matched_rule, current_agent_id) "
        "VALUES (7, 'web-1', 1000, 1000, 'product_uuid+serial', 'agent-of-version-1')");
    auto agent = db.prepare(
        "INSERT INTO agents (agent_id, public_key, status, enrolled_at, last_seq, ci_id) "
        "VALUES (?1, ?2, 'active', 900, 5, ?3)");
    agent.bind(1, agent_id);
    agent.bind_blob(2, muster::test::enrollment_for("v1").public_key);
    agent.bind(3, ci_id);
    agent.step();
    auto state = muster::make_state(inventory);
    auto header =
        db.prepare("INSERT INTO agent_states (agent_id, seq, state_hash) VALUES (?1, 5, ?2)");
    header.bind(1, agent_id);
    header.bind(2, muster::state_hash(state));
    header.step();
    auto section = db.prepare(
        "INSERT INTO agent_state_sections (agent_id, section, body) VALUES (?1, ?2, ?3)");
    for (const auto& member : state) {
        section.reset();
        section.bind(1, agent_id);
        section.bind(2, std::string_view(member.key()));
        auto body = muster::gzip_compress(muster::canonical_json(member.value()), 1);
        if (damaged && member.key() == "software") body = "not gzip";
        section.bind_blob(3, body);
        section.step();
    }
}

std::int64_t count(muster::sqlite_database& db, const std::string& sql) {
    auto select = db.prepare(sql);
    REQUIRE(select.step());
    return select.column_int64(0);
}

// Version 5 wrote a section's rows in blocks of 32 to 64 rows; this makes the software
// section of the agent one such block (of all its rows), as version 5 could have left it.
void merge_software_blocks(muster::sqlite_database& db) {
    std::string label;
    std::string joined;
    {
        auto select = db.prepare(
            "SELECT first_key, body FROM agent_state_blocks WHERE agent_id = ?1 AND section = "
            "'software' ORDER BY first_key");
        select.bind(1, agent_id);
        while (select.step()) {
            if (label.empty()) label = select.column_text(0);
            if (!joined.empty()) joined += ',';
            joined += select.column_text(1);
        }
    }
    REQUIRE(joined.size() > 4000);
    auto remove = db.prepare("DELETE FROM agent_state_blocks WHERE section = 'software'");
    remove.step();
    auto insert = db.prepare(
        "INSERT INTO agent_state_blocks (agent_id, section, first_key, body) "
        "VALUES (?1, 'software', ?2, ?3)");
    insert.bind(1, agent_id);
    insert.bind(2, label);
    insert.bind(3, joined);
    insert.step();
}

std::string blocks_table_sql(muster::sqlite_database& db) {
    auto select = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'agent_state_blocks'");
    REQUIRE(select.step());
    return select.column_text(0);
}

}  // namespace

TEST_CASE("a version 1 database is carried forward with its agents' states") {
    muster::test::temp_dir dir;
    auto db_file = std::filesystem::path(dir.path()) / "cmdb.sqlite";
    muster::test::host_facts facts;
    auto inventory = muster::test::make_inventory(facts);
    write_version_1(db_file, inventory, false);

    auto store = muster::collector::open_sqlite_store(db_file);
    muster::sqlite_database db(db_file);
    CHECK(muster::collector::schema_version(db) == muster::collector::latest_schema_version());
    CHECK(count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'agent_state_sections'") == 0);
    CHECK(count(db, "SELECT count(*) FROM agent_state_blocks") > 0);

    // The state stored at version 1 is the base of the agent's next delta.
    facts.packages[0].second = "3.0.13-1~deb12u1";
    facts.hostname = "web-2";
    auto next = muster::test::make_inventory(facts);
    auto delta = muster::test::delta_report(agent_id, 6, 5, inventory, next);
    auto result = store->ingest(std::span(&delta, 1), 2000);
    REQUIRE(result[0].status == ingest_status::ok);
    CHECK(count(db,
                "SELECT count(*) FROM ci_history WHERE ci_id = 7 AND change = 'upgraded' "
                "AND key = 'deb/openssl/amd64'") == 1);
    CHECK(count(db, "SELECT count(*) FROM cis WHERE id = 7 AND hostname = 'web-2'") == 1);
    auto same = muster::test::delta_report(agent_id, 7, 6, next, next);
    CHECK(store->ingest(std::span(&same, 1), 2100)[0].status == ingest_status::ok);
}

TEST_CASE("a damaged version 1 state is dropped and the agent asked for a full report") {
    muster::test::temp_dir dir;
    auto db_file = std::filesystem::path(dir.path()) / "cmdb.sqlite";
    auto inventory = muster::test::make_inventory({});
    write_version_1(db_file, inventory, true);

    auto store = muster::collector::open_sqlite_store(db_file);
    auto delta = muster::test::delta_report(agent_id, 6, 5, inventory, inventory);
    CHECK(store->ingest(std::span(&delta, 1), 2000)[0].status == ingest_status::resync);
    auto full = muster::test::full_report(agent_id, 7, inventory);
    CHECK(store->ingest(std::span(&full, 1), 2000)[0].status == ingest_status::ok);
    muster::sqlite_database db(db_file);
    CHECK(count(db, "SELECT count(*) FROM cis") == 1);  // still the CI of version 1
}

TEST_CASE("version 5's blocks of many rows are carried into the rowid table and still apply") {
    muster::test::temp_dir dir;
    auto db_file = std::filesystem::path(dir.path()) / "cmdb.sqlite";
    muster::test::host_facts facts;
    for (int i = 0; i < 60; ++i) {
        facts.packages.emplace_back("pkg-" + std::to_string(1000 + i), "1.0-" + std::to_string(i));
    }
    auto inventory = muster::test::make_inventory(facts);
    write_version_1(db_file, inventory, false);
    {
        muster::sqlite_database db(db_file);
        muster::collector::migrate_to(db, 5);
        CHECK(blocks_table_sql(db).find("WITHOUT ROWID") != std::string::npos);
        merge_software_blocks(db);
        // A second agent's blocks (the same texts), so that the copy is seen to take every
        // agent's.
        db.exec(
            "INSERT INTO agent_state_blocks (agent_id, section, first_key, body) "
            "SELECT 'second-agent', section, first_key, body FROM agent_state_blocks");
    }
    const std::string blocks_of_both =
        "SELECT count(*) FROM agent_state_blocks a JOIN agent_state_blocks b "
        "ON b.agent_id = 'second-agent' AND b.section = a.section AND "
        "b.first_key = a.first_key AND b.body = a.body WHERE a.agent_id = '" +
        agent_id + "'";
    std::int64_t blocks_before = 0;
    {
        muster::sqlite_database db(db_file);
        blocks_before = count(db, "SELECT count(*) FROM agent_state_blocks") / 2;
        REQUIRE(count(db, blocks_of_both) == blocks_before);
    }

    auto store = muster::collector::open_sqlite_store(db_file);
    muster::sqlite_database db(db_file);
    CHECK(blocks_table_sql(db).find("WITHOUT ROWID") == std::string::npos);
    CHECK(count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'agent_state_blocks_key'") ==
          1);
    CHECK(count(db, "SELECT count(*) FROM agent_state_blocks") == 2 * blocks_before);
    CHECK(count(db, blocks_of_both) == blocks_before);
    CHECK(count(db, "SELECT count(*) FROM agent_state_blocks WHERE section = 'software'") == 2);

    // A delta applies to the block as it was carried, and cuts it into blocks of today's size.
    facts.packages[3].second = "2.0";
    auto next = muster::test::make_inventory(facts);
    auto delta = muster::test::delta_report(agent_id, 6, 5, inventory, next);
    REQUIRE(store->ingest(std::span(&delta, 1), 2000)[0].status == ingest_status::ok);
    CHECK(count(db,
                "SELECT count(*) FROM agent_state_blocks WHERE section = 'software' AND "
                "agent_id = '" +
                    agent_id + "'") > 3);
    CHECK(count(db,
                "SELECT count(*) FROM agent_state_blocks WHERE section = 'software' AND "
                "length(body) > 2400 AND agent_id = '" +
                    agent_id + "'") == 0);
    auto same = muster::test::delta_report(agent_id, 7, 6, next, next);
    CHECK(store->ingest(std::span(&same, 1), 2100)[0].status == ingest_status::ok);
}

namespace {

// Every row of ci_software, its values quoted so that NULL, numbers and text stay apart.
std::vector<std::string> software_rows(muster::sqlite_database& db) {
    auto select = db.prepare(
        "SELECT quote(ci_id) || ',' || quote(source) || ',' || quote(name) || ',' || "
        "quote(arch) || ',' || quote(version) || ',' || quote(vendor) || ',' || "
        "quote(installed_at) || ',' || quote(size_bytes) FROM ci_software "
        "ORDER BY ci_id, source, name, arch");
    std::vector<std::string> rows;
    while (select.step()) rows.push_back(select.column_text(0));
    return rows;
}

}  // namespace

TEST_CASE("version 6's software table is split into packages and installs, rows unchanged") {
    muster::test::temp_dir dir;
    auto db_file = std::filesystem::path(dir.path()) / "cmdb.sqlite";
    std::vector<std::string> before;
    {
        muster::sqlite_database db(db_file);
        muster::collector::migrate_to(db, 6);
        db.exec(
            "INSERT INTO cis (id, hostname, first_seen, last_seen, matched_rule) VALUES "
            "(1, 'web-1', 1, 1, 'new'), (2, 'web-2', 1, 1, 'new');"
            "INSERT INTO ci_software (ci_id, source, name, arch, version, vendor, installed_at, "
            "size_bytes) VALUES "
            "(1, 'deb', 'openssl', 'amd64', '3.0.11-1', 'Debian', '2024-01-01', 1000),"
            "(1, 'deb', 'bash', 'amd64', '5.2.15-2', NULL, NULL, NULL),"
            "(2, 'deb', 'openssl', 'amd64', '3.0.11-1', 'Debian', '2024-02-01', 1000),"
            "(2, 'deb', 'bash', 'amd64', '5.2.15-2', NULL, '2024-02-01', NULL),"
            "(2, 'rpm', 'bash', 'x86_64', '5.2.15-1.el9', 'Red Hat', NULL, 2000)");
        before = software_rows(db);
        REQUIRE(before.size() == 5);
    }

    auto store = muster::collector::open_sqlite_store(db_file);
    muster::sqlite_database db(db_file);
    CHECK(muster::collector::schema_version(db) == muster::collector::latest_schema_version());
    CHECK(software_rows(db) == before);
    CHECK(count(db, "SELECT count(*) FROM software_packages") == 3);
    CHECK(count(db, "SELECT count(*) FROM ci_software_installs") == 5);
    CHECK(count(db,
                "SELECT count(*) FROM sqlite_master WHERE name = 'ci_software' AND "
                "type = 'view'") == 1);
    CHECK(count(db,
                "SELECT count(*) FROM sqlite_master WHERE name LIKE 'ci_software_v6%' OR "
                "name = 'ci_software_name'") == 0);
    CHECK(count(db, "SELECT count(*) FROM v_software WHERE host = 'web-2'") == 3);
    auto check = db.prepare("PRAGMA integrity_check");
    REQUIRE(check.step());
    CHECK(check.column_text(0) == "ok");
}
