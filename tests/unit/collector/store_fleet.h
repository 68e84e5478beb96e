#pragma once
// A fleet of agents reporting to a real store on a real database file: enroll, full reports
// and deltas made the way an agent makes them, and one-value queries on a connection of the
// test's own.
#include "collector/sqlite_store.h"
#include "common/sqlite.h"
#include "support/process.h"
#include "unit/collector/store_test_support.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <span>
#include <string>

namespace muster::test {

struct store_fleet {
    temp_dir dir;
    std::filesystem::path db_file = std::filesystem::path(dir.path()) / "cmdb.sqlite";
    std::unique_ptr<collector::cmdb_store> store = collector::open_sqlite_store(db_file);
    sqlite_database db{db_file};

    struct agent {
        std::string id;
        std::int64_t seq = 0;
        json::object inventory;
    };

    agent enroll(const std::string& seed, std::int64_t now) {
        agent a;
        a.id = store->enroll_agent(enrollment_for(seed), true, now).agent_id;
        return a;
    }
    void full(agent& a, json::object inventory, std::int64_t now) {
        a.inventory = std::move(inventory);
        auto report = full_report(a.id, ++a.seq, a.inventory);
        REQUIRE(store->ingest(std::span(&report, 1), now)[0].status ==
                collector::ingest_status::ok);
    }
    void full(agent& a, const host_facts& facts, std::int64_t now) {
        full(a, make_inventory(facts), now);
    }
    void delta(agent& a, json::object next, std::int64_t now) {
        auto report = delta_report(a.id, a.seq + 1, a.seq, a.inventory, next);
        REQUIRE(store->ingest(std::span(&report, 1), now)[0].status ==
                collector::ingest_status::ok);
        ++a.seq;
        a.inventory = std::move(next);
    }
    void delta(agent& a, const host_facts& facts, std::int64_t now) {
        delta(a, make_inventory(facts), now);
    }
    std::int64_t ci_of(const agent& a) { return *store->find_agent(a.id)->ci_id; }
    // The first column of the first row of a query with the CI as ?1, "NULL" for null. The
    // statement ends here: one left stepped would hold a read snapshot from this moment.
    std::string text(const std::string& sql, std::int64_t ci) {
        auto statement = db.prepare(sql);
        statement.bind(1, ci);
        REQUIRE(statement.step());
        return statement.column_is_null(0) ? "NULL" : statement.column_text(0);
    }
    std::int64_t number(const std::string& sql, std::int64_t ci = 0) {
        auto statement = db.prepare(sql);
        if (sql.find("?1") != std::string::npos) statement.bind(1, ci);
        REQUIRE(statement.step());
        return statement.column_int64(0);
    }
    std::int64_t count_cis() { return number("SELECT count(*) FROM cis"); }
};

}  // namespace muster::test
