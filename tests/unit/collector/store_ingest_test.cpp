// The SQLite CMDB's agents and report ingest (docs/protocol.md, "Reports"), on real database
// files in a temporary directory.
#include "collector/migrations.h"
#include "collector/sqlite_store.h"
#include "common/sqlite.h"
#include "support/process.h"
#include "unit/collector/store_test_support.h"

#include <boost/json.hpp>

#include <catch2/catch.hpp>

#include <thread>

namespace {

namespace json = boost::json;
using muster::collector::agent_status;
using muster::collector::ingest_result;
using muster::collector::ingest_status;
using muster::collector::verified_report;

struct fixture {
    muster::test::temp_dir dir;
    std::filesystem::path db_file = std::filesystem::path(dir.path()) / "cmdb.sqlite";
    std::unique_ptr<muster::collector::cmdb_store> store =
        muster::collector::open_sqlite_store(db_file);

    std::string enroll(const std::string& seed) {
        return store->enroll_agent(muster::test::enrollment_for(seed), true, 1000).agent_id;
    }
    ingest_result ingest(const verified_report& report, std::int64_t now = 2000) {
        auto results = store->ingest(std::span(&report, 1), now);
        REQUIRE(results.size() == 1);
        return results[0];
    }
};

}  // namespace

TEST_CASE("opening creates the schema in WAL mode") {
    fixture f;
    muster::sqlite_database db(f.db_file);
    auto version = db.prepare("PRAGMA user_version");
    REQUIRE(version.step());
    CHECK(version.column_int64(0) == muster::collector::latest_schema_version());
    CHECK(version.column_int64(0) >= 5);  // at least the block layout of agent states
    auto mode = db.prepare("PRAGMA journal_mode");
    REQUIRE(mode.step());
    CHECK(mode.column_text(0) == "wal");
}

TEST_CASE("enrollment is idempotent by public key") {
    fixture f;
    auto first = f.store->enroll_agent(muster::test::enrollment_for("a"), false, 1000);
    CHECK(first.status == agent_status::pending);
    CHECK(first.agent_id.size() >= 16);
    CHECK(first.agent_id.find_first_not_of(
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          std::string::npos);
    auto again = f.store->enroll_agent(muster::test::enrollment_for("a"), true, 1001);
    CHECK(again.agent_id == first.agent_id);
    CHECK(again.status == agent_status::pending);
    auto other = f.store->enroll_agent(muster::test::enrollment_for("b"), true, 1002);
    CHECK(other.agent_id != first.agent_id);
    CHECK(other.status == agent_status::active);

    auto found = f.store->find_agent(first.agent_id);
    REQUIRE(found);
    CHECK(found->public_key == muster::test::enrollment_for("a").public_key);
    CHECK_FALSE(f.store->find_agent("no-such-agent"));

    CHECK(f.store->set_agent_status(first.agent_id, agent_status::active));
    CHECK(f.store->find_agent(first.agent_id)->status == agent_status::active);
    CHECK_FALSE(f.store->set_agent_status("no-such-agent", agent_status::active));
}

TEST_CASE("a full report is acknowledged and its state stored") {
    fixture f;
    auto id = f.enroll("a");
    auto inventory = muster::test::make_inventory({});
    auto report = muster::test::full_report(id, 1, inventory);
    auto result = f.ingest(report);
    REQUIRE(result.status == ingest_status::ok);
    auto ack = json::parse(result.ack).as_object();
    CHECK(ack.at("status") == "ok");
    CHECK(ack.at("seq") == 1);
    CHECK(ack.at("state_hash") == report.document.at("state_hash"));

    auto agent = f.store->find_agent(id);
    REQUIRE(agent);
    CHECK(agent->last_seq == 1);
    CHECK(agent->last_body_sha256 == report.body_sha256);
    CHECK(agent->last_ack == result.ack);
    CHECK(agent->ci_id.has_value());

    SECTION("the same bytes again get the original acknowledgement") {
        auto again = f.ingest(report, 3000);
        CHECK(again.status == ingest_status::ok);
        CHECK(again.ack == result.ack);
    }
    SECTION("the same seq with other content is a replay") {
        auto other =
            muster::test::full_report(id, 1, muster::test::make_inventory({.hostname = "x"}));
        CHECK(f.ingest(other).status == ingest_status::replay);
    }
    SECTION("an older seq is a replay") {
        REQUIRE(f.ingest(muster::test::full_report(id, 5, inventory)).status == ingest_status::ok);
        CHECK(f.ingest(report).status == ingest_status::replay);
    }
    SECTION("a full report whose hash does not match its inventory is malformed") {
        auto bad = muster::test::full_report(id, 2, inventory);
        bad.document["state_hash"] = std::string(64, 'a');
        auto refused = f.ingest(bad);
        CHECK(refused.status == ingest_status::malformed);
        CHECK_FALSE(refused.message.empty());
        CHECK(f.store->find_agent(id)->last_seq == 1);
    }
}

namespace {

// Every row a CI's report leaves in the tables it fills and in its stored state, as text.
std::vector<std::string> stored_rows(const std::filesystem::path& db_file) {
    muster::sqlite_database db(db_file, muster::sqlite_open::read_only);
    std::vector<std::string> rows;
    for (const char* sql :
         {"SELECT quote(section) || quote(first_key) || quote(body) FROM agent_state_blocks "
          "ORDER BY section, first_key",
          "SELECT quote(section) || quote(body) FROM agent_state_values ORDER BY section",
          "SELECT quote(name) || quote(version) || quote(installed_at) FROM ci_software "
          "ORDER BY name",
          "SELECT quote(name) || quote(mac) FROM ci_interfaces ORDER BY name",
          "SELECT quote(hostname) || quote(serial) || quote(matched_rule) FROM cis"}) {
        auto select = db.prepare(sql);
        while (select.step()) rows.push_back(select.column_text(0));
    }
    return rows;
}

}  // namespace

TEST_CASE("a full report prepared before the writer takes it is stored as one that was not") {
    fixture prepared_store;
    fixture plain_store;
    auto inventory = muster::test::make_inventory({});
    auto prepared = muster::test::full_report(prepared_store.enroll("a"), 1, inventory);
    auto plain = muster::test::full_report(plain_store.enroll("a"), 1, inventory);
    // On another thread, as an I/O thread does.
    std::thread([&] { prepared_store.store->prepare(prepared); }).join();
    REQUIRE(prepared.prepared);
    CHECK_FALSE(plain.prepared);

    auto with = prepared_store.ingest(prepared);
    auto without = plain_store.ingest(plain);
    REQUIRE(with.status == ingest_status::ok);
    REQUIRE(without.status == ingest_status::ok);
    CHECK(json::parse(with.ack) == json::parse(without.ack));
    auto rows = stored_rows(prepared_store.db_file);
    CHECK(rows.size() > 10);
    CHECK(rows == stored_rows(plain_store.db_file));

    SECTION("a prepared report whose hash does not match its inventory is malformed") {
        auto bad = muster::test::full_report(prepared.agent_id, 2, inventory);
        bad.document["state_hash"] = std::string(64, 'a');
        prepared_store.store->prepare(bad);
        REQUIRE(bad.prepared);
        CHECK(prepared_store.ingest(bad).status == ingest_status::malformed);
    }
    SECTION("what was prepared for one inventory is never used for another") {
        auto other = muster::test::make_inventory({.hostname = "renamed"});
        auto next = muster::test::full_report(prepared.agent_id, 2, other);
        auto first = muster::test::full_report(prepared.agent_id, 2, inventory);
        prepared_store.store->prepare(first);
        next.prepared = first.prepared;  // its state is of `inventory`, its hash not `next`'s
        REQUIRE(prepared_store.ingest(next).status == ingest_status::ok);
        muster::sqlite_database db(prepared_store.db_file, muster::sqlite_open::read_only);
        auto hostname = db.prepare("SELECT hostname FROM cis");
        REQUIRE(hostname.step());
        CHECK(hostname.column_text(0) == "renamed");
    }
    SECTION("a delta is not prepared") {
        auto delta = muster::test::delta_report(prepared.agent_id, 2, 1, inventory,
                                                muster::test::make_inventory({.hostname = "b"}));
        prepared_store.store->prepare(delta);
        CHECK_FALSE(delta.prepared);
        CHECK(prepared_store.ingest(delta).status == ingest_status::ok);
    }
}

TEST_CASE("deltas apply to the acknowledged state or ask for a resync") {
    fixture f;
    auto id = f.enroll("a");
    muster::test::host_facts facts;
    auto v1 = muster::test::make_inventory(facts);
    REQUIRE(f.ingest(muster::test::full_report(id, 1, v1)).status == ingest_status::ok);

    facts.packages[0].second = "3.0.13-1~deb12u1";
    facts.packages.emplace_back("vim", "2:9.0.1378-2");
    auto v2 = muster::test::make_inventory(facts);
    auto delta = muster::test::delta_report(id, 2, 1, v1, v2);
    auto result = f.ingest(delta);
    REQUIRE(result.status == ingest_status::ok);
    CHECK(json::parse(result.ack).at("state_hash") == delta.document.at("state_hash"));

    SECTION("an unchanged host sends an empty delta") {
        auto same = muster::test::delta_report(id, 3, 2, v2, v2);
        CHECK(same.document.at("changes").as_object().empty());
        CHECK(f.ingest(same).status == ingest_status::ok);
        auto wrong = muster::test::delta_report(id, 4, 3, v2, v2);
        wrong.document["state_hash"] = std::string(64, '0');
        CHECK(f.ingest(wrong).status == ingest_status::resync);
    }
    SECTION("a delta on an unknown base is a resync") {
        CHECK(f.ingest(muster::test::delta_report(id, 3, 1, v1, v2)).status ==
              ingest_status::resync);
        CHECK(f.ingest(muster::test::delta_report(id, 3, 7, v2, v2)).status ==
              ingest_status::resync);
    }
    SECTION("a delta whose result hashes differently is a resync, and the state is kept") {
        facts.hostname = "web-2";
        auto v3 = muster::test::make_inventory(facts);
        auto bad = muster::test::delta_report(id, 3, 2, v2, v3);
        bad.document["state_hash"] = std::string(64, 'f');
        CHECK(f.ingest(bad).status == ingest_status::resync);
        CHECK(f.ingest(muster::test::delta_report(id, 4, 2, v2, v3)).status == ingest_status::ok);
    }
    SECTION("a delta that does not apply to the base is a resync") {
        auto from_v1 = muster::test::delta_report(id, 3, 2, v1, v2);  // adds vim again
        CHECK(f.ingest(from_v1).status == ingest_status::resync);
    }
    SECTION("after a resync a full report sets a new base") {
        auto full = muster::test::full_report(id, 9, v1);
        REQUIRE(f.ingest(full).status == ingest_status::ok);
        CHECK(f.ingest(muster::test::delta_report(id, 10, 9, v1, v2)).status == ingest_status::ok);
    }
}

TEST_CASE("agents that may not report are refused") {
    fixture f;
    auto inventory = muster::test::make_inventory({});
    CHECK(f.ingest(muster::test::full_report("nobody", 1, inventory)).status ==
          ingest_status::unknown_agent);
    auto pending = f.store->enroll_agent(muster::test::enrollment_for("p"), false, 1).agent_id;
    CHECK(f.ingest(muster::test::full_report(pending, 1, inventory)).status ==
          ingest_status::pending);
    auto revoked = f.enroll("r");
    REQUIRE(f.store->set_agent_status(revoked, agent_status::revoked));
    CHECK(f.ingest(muster::test::full_report(revoked, 1, inventory)).status ==
          ingest_status::revoked);
}

TEST_CASE("hostile documents are malformed, never an exception, and change nothing") {
    fixture f;
    auto id = f.enroll("a");
    auto v1 = muster::test::make_inventory({});
    REQUIRE(f.ingest(muster::test::full_report(id, 1, v1)).status == ingest_status::ok);
    auto good = muster::test::full_report(id, 2, v1);

    std::vector<std::pair<std::string, json::object>> cases;
    auto with = [&](std::string name, auto edit) {
        json::object document = good.document;
        edit(document);
        cases.emplace_back(std::move(name), std::move(document));
    };
    with("no protocol", [](json::object& d) { d.erase("protocol"); });
    with("protocol 2", [](json::object& d) { d["protocol"] = 2; });
    with("protocol as text", [](json::object& d) { d["protocol"] = "1"; });
    with("other agent id", [](json::object& d) { d["agent_id"] = "someone"; });
    with("seq as float", [](json::object& d) { d["seq"] = 2.0; });
    with("huge seq", [](json::object& d) { d["seq"] = std::uint64_t(1) << 63; });
    with("no kind", [](json::object& d) { d.erase("kind"); });
    with("odd kind", [](json::object& d) { d["kind"] = "partial"; });
    with("hash not hex", [](json::object& d) { d["state_hash"] = std::string(64, 'Z'); });
    with("hash null", [](json::object& d) { d["state_hash"] = nullptr; });
    with("inventory array", [](json::object& d) { d["inventory"] = json::array{1, 2}; });
    with("no inventory", [](json::object& d) { d.erase("inventory"); });
    with("float in a section", [](json::object& d) {
        d["inventory"].as_object()["memory"] = json::object{{"total_bytes", 1.5}};
    });
    with("float in a row key", [](json::object& d) {
        d["inventory"].as_object()["software"] = json::array{json::object{{"name", 0.5}}};
    });
    // Found by tests/fuzz/report_fuzz.cpp: a row without its key field (null in the state)
    // failed the table's NOT NULL primary key, a database error instead of a malformed report.
    with("row without its key", [](json::object& d) {
        d["inventory"].as_object()["filesystems"] =
            json::array{json::object{{"mntpoint", "/"}, {"total_bytes", 5000}}};
    });
    with("row with a null key field", [](json::object& d) {
        json::object row{{"source", "deb"}, {"name", "bash"}, {"arch", nullptr}};
        d["inventory"].as_object()["software"] = json::array{row};
    });
    with("delta without changes", [](json::object& d) {
        d["kind"] = "delta";
        d["base_seq"] = 1;
        d.erase("inventory");
    });
    with("delta with changes array", [](json::object& d) {
        d["kind"] = "delta";
        d["base_seq"] = 1;
        d["changes"] = json::array{};
    });
    with("delta without base", [](json::object& d) {
        d["kind"] = "delta";
        d["changes"] = json::object{};
        d.erase("base_seq");
    });
    for (auto& [name, document] : cases) {
        INFO(name);
        auto report = muster::test::finish(id, document);
        report.seq = 2;
        auto result = f.ingest(report);
        CHECK(result.status != ingest_status::ok);
        CHECK(result.ack.empty());
        CHECK_FALSE(result.message.empty());
    }
    auto agent = f.store->find_agent(id);
    CHECK(agent->last_seq == 1);
    CHECK(f.ingest(good).status == ingest_status::ok);
}

TEST_CASE("a batch commits its good reports and refuses the bad ones") {
    fixture f;
    auto a = f.enroll("a");
    auto b = f.enroll("b");
    auto inventory = muster::test::make_inventory({});
    auto bad = muster::test::full_report(b, 1, inventory);
    bad.document["state_hash"] = std::string(64, 'a');
    std::vector<verified_report> batch{muster::test::full_report(a, 1, inventory), bad,
                                       muster::test::full_report(b, 2, inventory),
                                       muster::test::full_report(a, 1, inventory)};
    auto results = f.store->ingest(batch, 5000);
    REQUIRE(results.size() == 4);
    CHECK(results[0].status == ingest_status::ok);
    CHECK(results[1].status == ingest_status::malformed);
    CHECK(results[2].status == ingest_status::ok);
    CHECK(results[3].status == ingest_status::ok);  // identical resend within the batch
    CHECK(results[3].ack == results[0].ack);

    f.store.reset();
    auto reopened = muster::collector::open_sqlite_store(f.db_file);
    CHECK(reopened->find_agent(a)->last_seq == 1);
    CHECK(reopened->find_agent(b)->last_seq == 2);
}

// A batch runs without a savepoint per report until a report is refused after it wrote
// something (a delta whose hash does not match once applied); then the batch is rolled back
// and run again with savepoints. Either way a refused report must leave nothing behind and
// its neighbours must commit.
TEST_CASE("a delta refused after its changes were written leaves nothing behind in a batch") {
    fixture f;
    auto a = f.enroll("a");
    auto b = f.enroll("b");
    muster::test::host_facts facts;
    auto v1 = muster::test::make_inventory(facts);
    std::vector<verified_report> fulls{muster::test::full_report(a, 1, v1),
                                       muster::test::full_report(b, 1, v1)};
    for (const auto& result : f.store->ingest(fulls, 3000))
        REQUIRE(result.status == ingest_status::ok);

    facts.packages.emplace_back("vim", "2:9.0.1378-2");
    auto v2 = muster::test::make_inventory(facts);
    auto wrong = muster::test::delta_report(b, 2, 1, v1, v2);
    wrong.document["state_hash"] = std::string(64, 'f');
    std::vector<verified_report> batch{muster::test::delta_report(a, 2, 1, v1, v2), wrong,
                                       muster::test::delta_report(b, 3, 1, v1, v2),
                                       muster::test::delta_report(a, 9, 7, v1, v2)};
    auto results = f.store->ingest(batch, 4000);
    REQUIRE(results.size() == 4);
    CHECK(results[0].status == ingest_status::ok);
    CHECK(results[1].status == ingest_status::resync);
    // Adds vim to b's state again: only possible when the refused delta's rows were undone.
    CHECK(results[2].status == ingest_status::ok);
    CHECK(results[3].status == ingest_status::resync);  // refused before writing anything
    CHECK(json::parse(results[2].ack).at("state_hash") == batch[2].document.at("state_hash"));

    facts.packages.pop_back();
    auto v3 = muster::test::make_inventory(facts);
    CHECK(f.ingest(muster::test::delta_report(b, 4, 3, v2, v3)).status == ingest_status::ok);
    CHECK(f.ingest(muster::test::delta_report(a, 3, 2, v2, v3)).status == ingest_status::ok);
    auto agent = f.store->find_agent(b);
    REQUIRE(agent);
    CHECK(agent->last_seq == 4);
}
