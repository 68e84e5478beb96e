// The maintenance task against a real SQLite CMDB with an injected clock: staleness, history
// pruning in small steps, settings, and the periodic thread.
#include "collector/maintenance.h"
#include "collector/sqlite_store.h"
#include "common/sqlite.h"
#include "support/process.h"
#include "unit/collector/store_test_support.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

namespace {

namespace json = boost::json;
using muster::collector::ingest_status;
using muster::collector::maintenance_settings;

constexpr std::int64_t day = 24 * 3600;
constexpr std::int64_t t0 = 1'764'460'800;

struct cmdb {
    muster::test::temp_dir dir;
    std::filesystem::path db_file = std::filesystem::path(dir.path()) / "cmdb.sqlite";
    std::unique_ptr<muster::collector::cmdb_store> store =
        muster::collector::open_sqlite_store(db_file);
    muster::sqlite_database db{db_file};

    // A host whose last report arrived at `at`.
    void add_host(const std::string& name, std::int64_t at) {
        muster::test::host_facts facts;
        facts.hostname = name;
        facts.serial = "SN-" + name;
        facts.product_uuid = "";
        facts.machine_id = "";
        facts.mac = "";
        auto id = store->enroll_agent(muster::test::enrollment_for(name), true, at).agent_id;
        auto report = muster::test::full_report(id, 1, muster::test::make_inventory(facts));
        REQUIRE(store->ingest(std::span(&report, 1), at)[0].status == ingest_status::ok);
    }
    std::string state_of(const std::string& hostname) {
        auto select = db.prepare("SELECT state FROM cis WHERE hostname = ?1");
        select.bind(1, hostname);
        REQUIRE(select.step());
        return select.column_text(0);
    }
    void add_history(std::int64_t rows, std::int64_t time) {
        db.exec("BEGIN");
        auto insert = db.prepare(
            "INSERT INTO ci_history (ci_id, time, section, key, change) "
            "VALUES (1, ?1, 'software', 'pkg', 'installed')");
        insert.bind(1, time);
        for (std::int64_t i = 0; i < rows; ++i) {
            insert.step();
            insert.reset();
        }
        db.exec("COMMIT");
    }
    std::int64_t count(const std::string& sql) {
        auto select = db.prepare(sql);
        REQUIRE(select.step());
        return select.column_int64(0);
    }
};

maintenance_settings read_settings(const std::string& yaml) {
    auto doc = muster::load_yaml_string(yaml, "collector.yaml");
    maintenance_settings out;
    muster::read_config(doc, [&](muster::config_map& root) {
        out = muster::collector::read_maintenance_settings(root);
    });
    return out;
}

}  // namespace

TEST_CASE("maintenance settings: defaults, units and checks", "[maintenance]") {
    auto defaults = read_settings("");
    CHECK(defaults.history_retention == std::chrono::hours(24 * 400));
    CHECK(defaults.stale_after == std::chrono::hours(24 * 3));
    CHECK(defaults.retire_after == std::chrono::hours(24 * 30));
    CHECK(defaults.interval == std::chrono::seconds(60));
    CHECK(defaults.prune_step == 1000);

    auto set = read_settings(
        "history: {retention: 90d}\nstaleness: {stale_after: 12h, retire_after: 7d}\n"
        "maintenance: {interval: 5m, prune_step: 200}\n");
    CHECK(set.history_retention == std::chrono::hours(24 * 90));
    CHECK(set.stale_after == std::chrono::hours(12));
    CHECK(set.retire_after == std::chrono::hours(24 * 7));
    CHECK(set.interval == std::chrono::minutes(5));
    CHECK(set.prune_step == 200);

    CHECK_THROWS_WITH(
        read_settings("staleness: {stale_after: 10d, retire_after: 5d}\n"),
        Catch::Contains("collector.yaml:1:") && Catch::Contains("must be longer than stale_after"));
    CHECK_THROWS_WITH(read_settings("history: {retension: 5d}\n"),
                      Catch::Contains("unknown key 'retension'"));
}

TEST_CASE("maintenance marks silent CIs stale, then retired, and never deletes them",
          "[maintenance]") {
    cmdb c;
    c.add_host("quiet", t0);
    c.add_host("chatty", t0 + 5 * day);
    maintenance_settings settings;  // stale after 3 days, retired after 30

    auto first = muster::collector::run_maintenance(*c.store, settings, t0 + 4 * day);
    CHECK(first.state_changes == 1);
    CHECK(c.state_of("quiet") == "stale");
    CHECK(c.state_of("chatty") == "active");

    auto again = muster::collector::run_maintenance(*c.store, settings, t0 + 4 * day);
    CHECK(again.state_changes == 0);

    muster::collector::run_maintenance(*c.store, settings, t0 + 31 * day);
    CHECK(c.state_of("quiet") == "retired");
    CHECK(c.state_of("chatty") == "stale");
    CHECK(c.count("SELECT count(*) FROM cis") == 2);
}

TEST_CASE("maintenance prunes history past the retention in steps, keeping newer records",
          "[maintenance]") {
    cmdb c;
    c.add_host("web-1", t0);
    auto before = c.count("SELECT count(*) FROM ci_history");
    maintenance_settings settings;
    settings.history_retention = std::chrono::hours(24 * 10);
    settings.prune_step = 100;
    c.add_history(1050, t0 - 20 * day);  // 10 full steps and a partial one
    c.add_history(7, t0 - 5 * day);

    auto outcome = muster::collector::run_maintenance(*c.store, settings, t0);
    CHECK(outcome.history_pruned == 1050);
    CHECK(c.count("SELECT count(*) FROM ci_history") == before + 7);
    CHECK(c.count("SELECT min(time) FROM ci_history") >= t0 - 10 * day);

    // A stop request ends pruning after the current step.
    c.add_history(500, t0 - 20 * day);
    auto stopped = muster::collector::run_maintenance(*c.store, settings, t0, [] { return true; });
    CHECK(stopped.history_pruned == 100);
}

TEST_CASE("the maintenance task runs at once, then every interval, until stopped",
          "[maintenance]") {
    cmdb c;
    c.add_host("quiet", t0);
    maintenance_settings settings;
    settings.interval = std::chrono::milliseconds(100);
    std::atomic<std::int64_t> now{t0 + day};
    muster::collector::maintenance_task task(*c.store, settings, [&] { return now.load(); });
    task.start();
    auto wait_runs = [&](std::size_t n) {
        for (int i = 0; i < 600 && task.runs() < n; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return task.runs() >= n;
    };
    REQUIRE(wait_runs(1));
    CHECK(c.state_of("quiet") == "active");
    now = t0 + 4 * day;
    auto seen = task.runs();
    REQUIRE(wait_runs(seen + 2));  // one full run that started after the clock moved
    CHECK(c.state_of("quiet") == "stale");
    task.stop();
    auto final_runs = task.runs();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(task.runs() == final_runs);
}
