// The SQL console on a real CMDB file: reads work, everything else is refused and leaves the
// file as it was.
#include "collector/admin/sql_console.h"
#include "collector/migrations.h"
#include "collector/sqlite_store.h"
#include "common/crypto.h"
#include "common/file.h"
#include "support/process.h"
#include "unit/collector/store_test_support.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace json = boost::json;
using muster::collector::query_limits;
using muster::collector::query_outcome;
using muster::collector::run_readonly_query;
using namespace std::chrono_literals;

std::string file_sha256(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "absent";
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return muster::sha256_hex(bytes.str());
}

// A CMDB with two hosts, left open by the store as the running collector leaves it (WAL).
struct cmdb {
    muster::test::temp_dir dir;
    std::filesystem::path file = std::filesystem::path(dir.path()) / "cmdb.sqlite";
    std::unique_ptr<muster::collector::cmdb_store> store =
        muster::collector::open_sqlite_store(file);

    cmdb() {
        add_host("a", "web-1", "SN-1", "4c4c4544-0000-0000-0000-000000000001");
        add_host("b", "db-1", "SN-2", "4c4c4544-0000-0000-0000-000000000002");
    }
    void add_host(const std::string& seed, const std::string& hostname, const std::string& serial,
                  const std::string& uuid) {
        auto id = store->enroll_agent(muster::test::enrollment_for(seed), true, 1).agent_id;
        muster::test::host_facts facts;
        facts.hostname = hostname;
        facts.serial = serial;
        facts.product_uuid = uuid;
        facts.machine_id = muster::sha256_hex(seed).substr(0, 32);
        facts.mac = seed == "a" ? "52:54:00:00:00:01" : "52:54:00:00:00:02";
        auto report = muster::test::full_report(id, 1, muster::test::make_inventory(facts));
        auto results = store->ingest(std::span(&report, 1), 1000);
        REQUIRE(results[0].status == muster::collector::ingest_status::ok);
    }
    // The database file and its write-ahead log: what a write would change.
    std::string checksum() const {
        return file_sha256(file) + "/" + file_sha256(file.string() + "-wal");
    }
    query_outcome query(std::string_view sql, const query_limits& limits = {}) const {
        return run_readonly_query(file, sql, limits);
    }
};

const json::array& rows(const query_outcome& outcome) {
    return outcome.result.at("rows").as_array();
}

}  // namespace

TEST_CASE("a SELECT answers columns and rows, values typed, blobs as hex") {
    cmdb db;
    auto outcome = db.query(
        "SELECT hostname, id, 1.5 AS half, NULL AS missing, x'00ff10' AS bytes "
        "FROM cis ORDER BY hostname");
    INFO(outcome.message);
    REQUIRE(outcome.ok);
    CHECK(outcome.code.empty());
    CHECK(outcome.result.at("columns") ==
          json::array{"hostname", "id", "half", "missing", "bytes"});
    REQUIRE(rows(outcome).size() == 2);
    const auto& first = rows(outcome)[0].as_array();
    CHECK(first[0] == "db-1");
    CHECK(first[1].is_int64());
    CHECK(first[2].as_double() == 1.5);
    CHECK(first[3].is_null());
    CHECK(first[4] == "00ff10");
    CHECK(rows(outcome)[1].as_array()[0] == "web-1");
    CHECK(outcome.result.at("truncated") == false);
}

TEST_CASE("joins, CTEs, window and JSON functions, json_each and a trailing comment are fine") {
    cmdb db;
    auto outcome = db.query(
        "WITH names AS (SELECT c.hostname, s.name FROM cis c JOIN ci_software s ON s.ci_id = c.id)"
        " SELECT name, count(*) AS hosts, row_number() OVER (ORDER BY name) AS n,"
        " json_array(name) AS j FROM names GROUP BY name ORDER BY name; -- done\n");
    REQUIRE(outcome.ok);
    REQUIRE(rows(outcome).size() == 3);
    CHECK(rows(outcome)[0] == json::array{"bash", 2, 1, "[\"bash\"]"});
    CHECK(rows(outcome)[2] == json::array{"openssl", 2, 3, "[\"openssl\"]"});

    auto plan = db.query("EXPLAIN QUERY PLAN SELECT * FROM ci_software WHERE name = 'bash'");
    REQUIRE(plan.ok);
    CHECK_THAT(json::serialize(plan.result), Catch::Contains("software_packages_name"));

    auto each = db.query("SELECT value FROM json_each('[7,8,9]') WHERE value > 7");
    REQUIRE(each.ok);
    CHECK(rows(each) == json::array{json::array{8}, json::array{9}});
}

TEST_CASE("the documented views answer the common questions in one line") {
    cmdb db;
    auto hosts = db.query("SELECT hostname, state, os_id, serial FROM v_hosts ORDER BY hostname");
    REQUIRE(hosts.ok);
    CHECK(rows(hosts) == json::array{json::array{"db-1", "active", "debian", "SN-2"},
                                     json::array{"web-1", "active", "debian", "SN-1"}});

    auto openssl = db.query(
        "SELECT host, version, source, arch FROM v_software WHERE name = 'openssl' ORDER BY host");
    REQUIRE(openssl.ok);
    CHECK(rows(openssl) == json::array{json::array{"db-1", "3.0.11-1~deb12u2", "deb", "amd64"},
                                       json::array{"web-1", "3.0.11-1~deb12u2", "deb", "amd64"}});

    auto address = db.query(
        "SELECT host, interface, mac FROM v_addresses WHERE address = '10.0.0.5' ORDER BY host");
    REQUIRE(address.ok);
    CHECK(rows(address) == json::array{json::array{"db-1", "eth0", "52:54:00:00:00:02"},
                                       json::array{"web-1", "eth0", "52:54:00:00:00:01"}});

    for (auto view : {"v_listening_ports", "v_services", "v_open_incidents"}) {
        INFO(view);
        auto outcome = db.query(std::string("SELECT * FROM ") + view);
        CHECK(outcome.ok);
        CHECK(rows(outcome).empty());  // the test inventory has none of these
    }
    auto columns = db.query("SELECT * FROM v_open_incidents");
    CHECK(columns.result.at("columns").as_array().size() == 24);
}

TEST_CASE("everything but one read-only statement is refused and the file is unchanged") {
    cmdb db;
    auto dir = db.file.parent_path();
    std::string before = db.checksum();
    std::string count_before = json::serialize(db.query("SELECT count(*) FROM cis").result);

    struct refusal {
        std::string sql;
        std::string says;  // a part of the message
    };
    auto attach_target = (dir / "other.sqlite").string();
    auto vacuum_target = (dir / "copy.sqlite").string();
    std::vector<refusal> refusals = {
        {"INSERT INTO cis (first_seen, last_seen, matched_rule) VALUES (1, 1, 'x')", "INSERT"},
        {"UPDATE cis SET hostname = 'pwned'", "UPDATE"},
        {"DELETE FROM cis", "DELETE"},
        {"CREATE TABLE evil (x)", "CREATE"},
        {"CREATE TEMP TABLE evil AS SELECT * FROM cis", "CREATE"},
        {"CREATE VIEW evil AS SELECT 1", "CREATE"},
        {"DROP TABLE ci_history", "DROP"},
        {"DROP INDEX software_packages_name", "DROP"},
        {"ALTER TABLE cis ADD COLUMN evil TEXT", "ALTER"},
        {"ATTACH DATABASE '" + attach_target + "' AS other", "ATTACH"},
        {"DETACH DATABASE main", "DETACH"},
        {"PRAGMA journal_mode = DELETE", "PRAGMA"},
        {"PRAGMA user_version = 9", "PRAGMA"},
        {"PRAGMA writable_schema = ON", "PRAGMA"},
        {"PRAGMA table_info(cis)", "PRAGMA"},
        {"SELECT * FROM pragma_journal_mode('delete')", "PRAGMA"},
        {"SELECT load_extension('/nonexistent/evil.so')", "load_extension"},
        {"SELECT fts3_tokenizer('simple')", "fts3_tokenizer"},
        {"SELECT 1; DELETE FROM cis", "one statement"},
        {"SELECT 1; SELECT 2", "one statement"},
        {"SELECT 1;\n;\n-- x\n; DELETE FROM cis", "one statement"},
        {"BEGIN IMMEDIATE", "transaction"},
        {"SAVEPOINT s", "SAVEPOINT"},
        {"ANALYZE", "not allowed"},
        {"REINDEX", "REINDEX"},
        {"VACUUM", "read-only"},
        {"VACUUM INTO '" + vacuum_target + "'", "read-only"},
        {"REPLACE INTO agents (agent_id) VALUES ('x')", "INSERT"},
        {"WITH x AS (SELECT 1) DELETE FROM cis", "DELETE"},
        {"", "empty"},
        {" ;; ", "empty"},
        {"-- nothing but a comment", "no statement"},
        {"SELEC 1", "syntax error"},
        {"SELECT * FROM no_such_table", "no such table"},
    };
    for (const auto& r : refusals) {
        INFO(r.sql);
        auto outcome = db.query(r.sql);
        CHECK_FALSE(outcome.ok);
        CHECK(outcome.code == "query_refused");
        CHECK_THAT(outcome.message, Catch::Contains(r.says, Catch::CaseSensitive::No));
        CHECK(outcome.result.empty());
    }
    CHECK(db.checksum() == before);
    CHECK_FALSE(std::filesystem::exists(attach_target));
    CHECK_FALSE(std::filesystem::exists(vacuum_target));
    CHECK(json::serialize(db.query("SELECT count(*) FROM cis").result) == count_before);
    // The store (the only writer) still works and still reads what it wrote.
    muster::sqlite_database check(db.file, muster::sqlite_open::read_only);
    auto version = check.prepare("PRAGMA user_version");
    REQUIRE(version.step());
    CHECK(version.column_int64(0) == muster::collector::latest_schema_version());
    auto journal = check.prepare("PRAGMA journal_mode");
    REQUIRE(journal.step());
    CHECK(journal.column_text(0) == "wal");
}

TEST_CASE("a query that runs forever is stopped at the time limit") {
    cmdb db;
    std::string before = db.checksum();
    query_limits limits;
    limits.time = 300ms;
    auto outcome = db.query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
        "SELECT count(*) FROM n",
        limits);
    CHECK_FALSE(outcome.ok);
    CHECK(outcome.code == "query_timeout");
    CHECK(db.checksum() == before);
}

TEST_CASE("a huge result is cut at the row cap and says so") {
    cmdb db;
    query_limits limits;
    limits.max_rows = 25;
    auto counting = [&](int n) {
        return db.query("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT " +
                            std::to_string(n) + ") SELECT i FROM n",
                        limits);
    };
    auto huge = counting(1'000'000);
    REQUIRE(huge.ok);
    CHECK(rows(huge).size() == 25);
    CHECK(rows(huge)[24] == json::array{25});
    CHECK(huge.result.at("truncated") == true);

    auto exact = counting(25);  // exactly the cap: nothing was dropped
    REQUIRE(exact.ok);
    CHECK(rows(exact).size() == 25);
    CHECK(exact.result.at("truncated") == false);

    // The default cap is the documented 10,000 rows.
    auto many = db.query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 20000) "
        "SELECT i FROM n");
    REQUIRE(many.ok);
    CHECK(rows(many).size() == 10000);
    CHECK(many.result.at("truncated") == true);
}

TEST_CASE("a result too large in bytes is cut, and one huge value is refused") {
    cmdb db;
    query_limits limits;
    limits.max_bytes = 1 << 20;
    auto wide = db.query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 1000) "
        "SELECT i, hex(zeroblob(10000)) FROM n",
        limits);
    REQUIRE(wide.ok);
    CHECK(wide.result.at("truncated") == true);
    CHECK(rows(wide).size() < 100);
    CHECK(rows(wide).size() >= 50);

    auto giant = db.query("SELECT zeroblob(1000000000)");
    CHECK_FALSE(giant.ok);
    CHECK(giant.code == "query_refused");
}

TEST_CASE("a closed CMDB (no -wal, no -shm) is read, a missing one is an internal error") {
    muster::test::temp_dir dir;
    auto file = std::filesystem::path(dir.path()) / "cmdb.sqlite";
    muster::collector::open_sqlite_store(file).reset();
    auto outcome = run_readonly_query(file, "SELECT count(*) FROM cis");
    REQUIRE(outcome.ok);
    // One row of one column. (Not json::array{json::array{0}}: clang reads that as a copy of
    // the inner array, [0].)
    json::array one_row;
    one_row.emplace_back(json::array{0});
    CHECK(outcome.result.at("rows") == one_row);

    auto missing =
        run_readonly_query(std::filesystem::path(dir.path()) / "nope.sqlite", "SELECT 1");
    CHECK_FALSE(missing.ok);
    CHECK(missing.code == "internal");
    CHECK_FALSE(std::filesystem::exists(std::filesystem::path(dir.path()) / "nope.sqlite"));
}
