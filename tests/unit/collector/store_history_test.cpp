// Change history, fleet-wide queries, staleness, pruning and online backup of the SQLite CMDB.
#include "collector/sqlite_store.h"
#include "common/sqlite.h"
#include "common/version_compare.h"
#include "support/process.h"
#include "unit/collector/store_test_support.h"

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

namespace {

namespace json = boost::json;
using muster::collector::ingest_status;
using muster::test::host_facts;

struct host {
    muster::test::temp_dir dir;
    std::filesystem::path db_file = std::filesystem::path(dir.path()) / "cmdb.sqlite";
    std::unique_ptr<muster::collector::cmdb_store> store =
        muster::collector::open_sqlite_store(db_file);
    muster::sqlite_database db{db_file};
    std::string id = store->enroll_agent(muster::test::enrollment_for("a"), true, 1).agent_id;
    std::int64_t seq = 0;
    json::object inventory;
    host_facts facts;

    host() {
        inventory = muster::test::make_inventory(facts);
        auto report = muster::test::full_report(id, ++seq, inventory);
        REQUIRE(store->ingest(std::span(&report, 1), 1000)[0].status == ingest_status::ok);
    }
    void change(std::int64_t now) {
        auto next = muster::test::make_inventory(facts);
        auto report = muster::test::delta_report(id, seq + 1, seq, inventory, next);
        REQUIRE(store->ingest(std::span(&report, 1), now)[0].status == ingest_status::ok);
        ++seq;
        inventory = std::move(next);
    }
    // "change|section|key|old|new" for every record after the discovery.
    std::vector<std::string> history() {
        auto select = db.prepare(
            "SELECT change, section, key, coalesce(old_value, '-'), coalesce(new_value, '-') "
            "FROM ci_history WHERE change != 'discovered' ORDER BY id");
        std::vector<std::string> rows;
        while (select.step()) {
            rows.push_back(select.column_text(0) + "|" + select.column_text(1) + "|" +
                           select.column_text(2) + "|" + select.column_text(3) + "|" +
                           select.column_text(4));
        }
        return rows;
    }
    std::int64_t count(const std::string& sql) {
        auto select = db.prepare(sql);
        REQUIRE(select.step());
        return select.column_int64(0);
    }
};

}  // namespace

TEST_CASE("the first full report of a new CI is one discovered record") {
    host h;
    CHECK(h.count("SELECT count(*) FROM ci_history") == 1);
    CHECK(h.count("SELECT count(*) FROM ci_history WHERE change = 'discovered'") == 1);
    CHECK(h.count("SELECT count(*) FROM ci_software") == 3);
    CHECK(h.count("SELECT count(*) FROM ci_users") == 1);
    CHECK(h.count("SELECT count(*) FROM ci_interfaces") == 2);
    CHECK(h.count("SELECT count(*) FROM ci_addresses") == 2);
}

TEST_CASE("software installed, upgraded, downgraded and removed are recorded") {
    host h;
    h.facts.packages = {
        {"openssl", "3.0.13-1~deb12u1"}, {"bash", "5.2.15-2"}, {"vim", "2:9.0.1378-2"}};
    h.change(2000);
    CHECK(h.history() ==
          std::vector<std::string>{
              "downgraded|software|deb/bash/amd64|5.2.15-2+b2|5.2.15-2",
              "upgraded|software|deb/openssl/amd64|3.0.11-1~deb12u2|3.0.13-1~deb12u1",
              "installed|software|deb/vim/amd64|-|2:9.0.1378-2",
              "removed|software|deb/curl/amd64|7.88.1-10|-",
          });
    auto record = h.db.prepare(
        "SELECT time, seq, agent_id FROM ci_history WHERE key = "
        "'deb/vim/amd64'");
    REQUIRE(record.step());
    CHECK(record.column_int64(0) == 2000);
    CHECK(record.column_int64(1) == 2);
    CHECK(record.column_text(2) == h.id);
    CHECK(h.count("SELECT count(*) FROM ci_software WHERE name = 'curl'") == 0);
    CHECK(h.count("SELECT count(*) FROM ci_software WHERE name = 'openssl' AND version = "
                  "'3.0.13-1~deb12u1'") == 1);
}

TEST_CASE("a full report of a known CI (a resync) updates its tables and records what differs") {
    host h;
    h.facts.packages = {{"openssl", "3.0.13-1~deb12u1"}, {"bash", "5.2.15-2+b2"}};
    auto next = muster::test::make_inventory(h.facts);
    auto report = muster::test::full_report(h.id, 2, next);
    REQUIRE(h.store->ingest(std::span(&report, 1), 2000)[0].status == ingest_status::ok);
    CHECK(h.history() ==
          std::vector<std::string>{
              "upgraded|software|deb/openssl/amd64|3.0.11-1~deb12u2|3.0.13-1~deb12u1",
              "removed|software|deb/curl/amd64|7.88.1-10|-",
          });
    CHECK(h.count("SELECT count(*) FROM ci_software") == 2);
    CHECK(h.count("SELECT count(*) FROM ci_software WHERE name = 'openssl' AND version = "
                  "'3.0.13-1~deb12u1'") == 1);
    CHECK(h.count("SELECT count(*) FROM ci_users") == 1);
    CHECK(h.count("SELECT count(*) FROM ci_addresses") == 2);
    CHECK(h.count("SELECT count(*) FROM cis WHERE hostname = 'web-1'") == 1);
}

TEST_CASE("interfaces and addresses added or removed are recorded and indexed") {
    host h;
    h.facts.address = "10.0.0.6";
    h.change(2000);
    CHECK(h.history() == std::vector<std::string>{"added|addresses|eth0|-|10.0.0.6/24",
                                                  "removed|addresses|eth0|10.0.0.5/24|-"});
    CHECK(h.count("SELECT count(*) FROM ci_addresses WHERE address = '10.0.0.6'") == 1);
    CHECK(h.count("SELECT count(*) FROM ci_addresses WHERE address = '10.0.0.5'") == 0);

    h.facts.mac = "52:54:00:AB:CD:EF";
    h.change(3000);
    CHECK(h.history().back() == "changed|interfaces|eth0.mac|52:54:00:12:34:56|52:54:00:AB:CD:EF");
    // "Which host has this MAC?" answers in lower case through the index.
    auto plan = h.db.prepare(
        "EXPLAIN QUERY PLAN SELECT ci_id FROM ci_interfaces WHERE mac = '52:54:00:ab:cd:ef'");
    REQUIRE(plan.step());
    CHECK_THAT(plan.column_text(3), Catch::Contains("ci_interfaces_mac"));
    CHECK(h.count("SELECT ci_id FROM ci_interfaces WHERE mac = '52:54:00:ab:cd:ef'") ==
          *h.store->find_agent(h.id)->ci_id);
}

TEST_CASE("attribute changes are recorded by path, and an unchanged report records nothing") {
    host h;
    h.change(2000);
    CHECK(h.history().empty());
    h.inventory["os"].as_object()["version_id"] = "13";
    auto next = h.inventory;
    h.inventory = muster::test::make_inventory(h.facts);
    auto report = muster::test::delta_report(h.id, 3, 2, h.inventory, next);
    REQUIRE(h.store->ingest(std::span(&report, 1), 3000)[0].status == ingest_status::ok);
    CHECK(h.history() == std::vector<std::string>{"changed|os|version_id|12|13"});
    CHECK(h.count("SELECT count(*) FROM cis WHERE os_version_id = '13'") == 1);
}

TEST_CASE("which hosts have openssl older than 3.0.2: the index narrows, code compares") {
    host h;
    for (auto [seed, version] :
         {std::pair{"b", "1.1.1w-0+deb11u1"}, {"c", "3.0.2-0ubuntu1"}, {"d", "3.0.1-1"}}) {
        auto agent = h.store->enroll_agent(muster::test::enrollment_for(seed), true, 1).agent_id;
        host_facts facts;
        facts.product_uuid = facts.serial = facts.machine_id = "";
        facts.hostname = seed;
        facts.mac = std::string("52:54:00:00:00:0") + seed;
        facts.packages = {{"openssl", version}};
        auto report = muster::test::full_report(agent, 1, muster::test::make_inventory(facts));
        REQUIRE(h.store->ingest(std::span(&report, 1), 1000)[0].status == ingest_status::ok);
    }
    auto select = h.db.prepare(
        "SELECT cis.hostname, ci_software.source, ci_software.version FROM ci_software "
        "JOIN cis ON cis.id = ci_software.ci_id WHERE ci_software.name = 'openssl' "
        "ORDER BY cis.hostname");
    std::vector<std::string> old_hosts;
    while (select.step()) {
        if (muster::compare_versions(select.column_text(1), select.column_text(2), "3.0.2") < 0) {
            old_hosts.push_back(select.column_text(0));
        }
    }
    CHECK(old_hosts == std::vector<std::string>{"b", "d"});
}

TEST_CASE("CIs go stale, then retired, are never deleted, and come back when heard from") {
    host h;
    auto ci = *h.store->find_agent(h.id)->ci_id;
    auto state = [&] {
        auto select = h.db.prepare("SELECT state FROM cis WHERE id = ?1");
        select.bind(1, ci);
        REQUIRE(select.step());
        return select.column_text(0);
    };
    CHECK(h.store->update_staleness(1500, 1000, 5000) == 0);
    CHECK(state() == "active");
    CHECK(h.store->update_staleness(2500, 1000, 5000) == 1);
    CHECK(state() == "stale");
    CHECK(h.store->update_staleness(2600, 1000, 5000) == 0);
    CHECK(h.store->update_staleness(7000, 1000, 5000) == 1);
    CHECK(state() == "retired");
    CHECK(h.count("SELECT count(*) FROM ci_software") == 3);
    h.change(8000);
    CHECK(state() == "active");
    CHECK(h.history() == std::vector<std::string>{"changed|ci|state|active|stale",
                                                  "changed|ci|state|stale|retired",
                                                  "changed|ci|state|retired|active"});
}

TEST_CASE("history is pruned in small steps, oldest first") {
    host h;
    for (int i = 0; i < 10; ++i) {
        h.facts.hostname = "host-" + std::to_string(i);
        h.change(2000 + i);
    }
    CHECK(h.count("SELECT count(*) FROM ci_history") == 11);
    CHECK(h.store->prune_history(2005, 3) == 3);
    CHECK(h.count("SELECT min(time) FROM ci_history") == 2002);
    CHECK(h.store->prune_history(2005, 100) == 3);
    CHECK(h.store->prune_history(2005, 100) == 0);
    CHECK(h.count("SELECT count(*) FROM ci_history") == 5);
}

TEST_CASE("an online backup is a consistent copy while ingest goes on") {
    host h;
    std::atomic<bool> stop = false;
    std::thread writer([&] {
        auto facts = h.facts;
        std::int64_t now = 2000;
        while (!stop) {
            facts.hostname = "host-" + std::to_string(now);
            auto next = muster::test::make_inventory(facts);
            auto report = muster::test::delta_report(h.id, h.seq + 1, h.seq, h.inventory, next);
            if (h.store->ingest(std::span(&report, 1), now++)[0].status != ingest_status::ok) break;
            ++h.seq;
            h.inventory = std::move(next);
        }
    });
    auto backup_file = std::filesystem::path(h.dir.path()) / "backup.sqlite";
    h.store->backup_to(backup_file);
    stop = true;
    writer.join();
    muster::sqlite_database copy(backup_file);
    auto check = copy.prepare("PRAGMA integrity_check");
    REQUIRE(check.step());
    CHECK(check.column_text(0) == "ok");
    // Consistent: the agent's acknowledged seq and its stored state agree in the copy.
    auto seqs = copy.prepare(
        "SELECT agents.last_seq, agent_states.seq, (SELECT count(*) FROM ci_history WHERE "
        "change = 'renamed') FROM agents JOIN agent_states USING (agent_id)");
    REQUIRE(seqs.step());
    CHECK(seqs.column_int64(0) == seqs.column_int64(1));
    CHECK(seqs.column_int64(2) == seqs.column_int64(0) - 1);
}
