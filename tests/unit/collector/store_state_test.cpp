// The stored state of an agent (collector/agent_state.h): its texts hash exactly as the
// canonical JSON of the state, and deltas that grow, split, empty and relabel its blocks of
// rows leave it equal to the agent's state. The oracle is the state hash the agent computes
// (common/inventory_state.h): a stored state that differs from it by one byte is a resync.
#include "collector/agent_state.h"
#include "collector/sqlite_store.h"
#include "common/inventory_state.h"
#include "common/sqlite.h"
#include "support/process.h"
#include "unit/collector/store_test_support.h"

#include <sqlite3.h>

#include <boost/json.hpp>

#include <algorithm>
#include <random>

#include <catch2/catch.hpp>

namespace {

namespace json = boost::json;
using muster::collector::ingest_status;

// "name version" of every row of a software section, in order.
std::vector<std::string> packages_of(const json::object& inventory) {
    std::vector<std::string> packages;
    for (const auto& row : inventory.at("software").as_array()) {
        packages.push_back(std::string(row.at("name").as_string()) + " " +
                           std::string(row.at("version").as_string()));
    }
    std::sort(packages.begin(), packages.end());
    return packages;
}

// An array holding one array. Not json::array{json::array{...}}: clang reads that as a copy
// of the inner array, gcc as an array around it.
json::array holding(json::array inner) {
    json::array outer;
    outer.emplace_back(std::move(inner));
    return outer;
}

json::object package(const std::string& name, const std::string& version) {
    return json::object{{"name", name},      {"version", version}, {"arch", "amd64"},
                        {"source", "deb"},   {"vendor", "Debian"}, {"installed_at", nullptr},
                        {"size_bytes", 1000}};
}

struct agent_host {
    muster::test::temp_dir dir;
    std::filesystem::path db_file = std::filesystem::path(dir.path()) / "cmdb.sqlite";
    std::unique_ptr<muster::collector::cmdb_store> store =
        muster::collector::open_sqlite_store(db_file);
    muster::sqlite_database db{db_file};
    std::string id = store->enroll_agent(muster::test::enrollment_for("a"), true, 1).agent_id;
    std::int64_t seq = 0;
    json::object inventory;

    explicit agent_host(json::array software) {
        inventory = muster::test::make_inventory({});
        inventory["software"] = std::move(software);
        REQUIRE(ingest(muster::test::full_report(id, ++seq, inventory)) == ingest_status::ok);
    }
    ingest_status ingest(const muster::collector::verified_report& report) {
        return store->ingest(std::span(&report, 1), 2000)[0].status;
    }
    // Sends the delta to next; true when it was acknowledged (and next is the new base).
    bool send(json::object next) {
        auto report = muster::test::delta_report(id, seq + 1, seq, inventory, next);
        if (ingest(report) != ingest_status::ok) return false;
        ++seq;
        inventory = std::move(next);
        return true;
    }
    std::vector<std::string> stored_packages() {
        auto select = db.prepare(
            "SELECT name || ' ' || version FROM ci_software WHERE ci_id = "
            "(SELECT ci_id FROM agents WHERE agent_id = ?1) ORDER BY 1");
        select.bind(1, id);
        std::vector<std::string> rows;
        while (select.step()) rows.push_back(select.column_text(0));
        return rows;
    }
    // Blocks that break the layout: empty, over-full (more than 2,400 bytes and more than one
    // row), or labelled other than by their first row's key.
    std::int64_t bad_blocks() {
        return count_of(
            "SELECT count(*) FROM agent_state_blocks WHERE agent_id = ?1 AND section = "
            "'software' AND (json_array_length('[' || body || ']') < 1 OR "
            "(length(body) > 2400 AND json_array_length('[' || body || ']') > 1) OR "
            "first_key != json_array(json_extract('[' || body || ']', '$[0].source'), "
            "json_extract('[' || body || ']', '$[0].name'), "
            "json_extract('[' || body || ']', '$[0].arch')))");
    }
    // Pages of the state's blocks that SQLite spilled out of their B-tree cells.
    std::int64_t overflow_pages() {
        return count_of(
            "SELECT count(*) FROM dbstat WHERE name = 'agent_state_blocks' AND "
            "pagetype = 'overflow'");
    }
    // The rowids of the agent's blocks, in order.
    std::string block_ids() {
        auto select = db.prepare(
            "SELECT group_concat(id) FROM (SELECT id FROM agent_state_blocks WHERE agent_id = ?1 "
            "ORDER BY id)");
        select.bind(1, id);
        REQUIRE(select.step());
        return select.column_text(0);
    }
    std::int64_t blocks() {
        return count_of(
            "SELECT count(*) FROM agent_state_blocks WHERE agent_id = ?1 AND section = 'software'");
    }
    // The number a query gives; its ?1, when it has one, is this agent.
    std::int64_t count_of(const std::string& sql) {
        auto select = db.prepare(sql);
        if (sqlite3_bind_parameter_count(select.handle()) > 0) select.bind(1, id);
        REQUIRE(select.step());
        return select.column_int64(0);
    }
};

json::array numbered(const std::string& prefix, int from, int to, const std::string& version) {
    json::array rows;
    char name[64];
    for (int i = from; i < to; ++i) {
        std::snprintf(name, sizeof name, "%s-%04d", prefix.c_str(), i);
        rows.push_back(package(name, version));
    }
    return rows;
}

}  // namespace

TEST_CASE("the stored texts of a state hash as its canonical JSON") {
    auto state = muster::make_state(muster::test::make_inventory({}));
    std::vector<json::object> states{state};
    state["software"] = json::array{};  // a row section without rows
    states.push_back(state);
    state["software"] = nullptr;  // a row section the agent could not read
    state["users"] = json::object{{"not", "rows"}};
    states.push_back(state);
    // Names and values that need escapes, and bytes above ASCII, which order unsigned.
    state["x\"y\n"] = json::array{1, "caf\xc3\xa9", json::object{{"b", 1}, {"a", nullptr}}};
    state["\xc3\xa9t\xc3\xa9"] = true;
    state["services"] = json::array{json::object{{"name", "\xc3\xa9"}}, json::object{{"name", "z"}},
                                    json::object{{"other", 1}}};
    states.push_back(muster::make_state(state));
    for (const auto& s : states) {
        CHECK(muster::collector::state_hash_of(muster::collector::texts_of(s)) ==
              muster::state_hash(s));
    }
}

TEST_CASE("a full report's state, made without copying its rows, is make_state's") {
    auto inventory = muster::test::make_inventory({});
    // Unsorted rows, a duplicate key (the first one counts), a row that is not an object,
    // a missing key field, escapes; filesystems lose a volatile field; errors are dropped.
    inventory["software"] = json::array{package("zsh", "5.9"),
                                        package("bash", "5.2"),
                                        package("bash", "1.0"),
                                        7,
                                        json::object{{"name", "no-arch\n\"q\""}, {"version", "1"}},
                                        package("caf\xc3\xa9", "2")};
    inventory["filesystems"] =
        json::array{json::object{{"mountpoint", "/var"}, {"free_bytes", 5}, {"type", "ext4"}},
                    json::object{{"mountpoint", "/"}, {"free_bytes", 9}, {"type", "xfs"}}};
    inventory["services"] = nullptr;  // a row section the agent could not read
    inventory["errors"] = json::array{json::object{{"section", "users"}}};
    auto expected = muster::make_state(inventory);

    muster::collector::full_state state(inventory);
    CHECK(muster::collector::state_hash_of(state.texts()) == muster::state_hash(expected));
    CHECK(state.every() == expected);
    const auto& software = state.rows().at("software");
    REQUIRE(software.size() == 4);
    CHECK(*software[0] == expected.at("software").as_array()[0].as_object());
    CHECK(software[0]->at("version") == "5.2");
    CHECK(state.rows().at("filesystems").front()->contains("free_bytes") == false);
    CHECK(state.rows().count("services") == 0);
    CHECK(state.values().contains("errors") == false);
    CHECK(state.values().at("services").is_null());
}

TEST_CASE("deltas that grow, split, empty and relabel blocks keep the agent's state") {
    agent_host h(numbered("pkg", 100, 300, "1.0"));
    CHECK(h.blocks() > 6);  // 200 rows are several blocks
    CHECK(h.bad_blocks() == 0);

    auto next = h.inventory;
    SECTION("rows added before the first block, until it splits") {
        auto& software = next["software"].as_array();
        for (auto& row : numbered("aaa", 0, 150, "2.0")) software.push_back(row);
        REQUIRE(h.send(next));
    }
    SECTION("every row of some blocks removed") {
        auto& software = next["software"].as_array();
        software.erase(software.begin() + 40, software.begin() + 160);
        REQUIRE(h.send(next));
    }
    SECTION("one row changed in each block, and rows added between blocks") {
        auto& software = next["software"].as_array();
        for (std::size_t i = 0; i < software.size(); i += 20) {
            software[i].as_object()["version"] = "1.1";
        }
        for (auto& row : numbered("pkg", 300, 400, "2.0")) software.push_back(row);
        for (auto& row : numbered("pkg-0150", 0, 40, "2.0")) software.push_back(row);
        REQUIRE(h.send(next));
    }
    SECTION("every row removed, then rows added to the empty section") {
        next["software"] = json::array{};
        REQUIRE(h.send(next));
        CHECK(h.blocks() == 0);
        auto again = next;
        again["software"] = numbered("new", 0, 100, "3.0");
        REQUIRE(h.send(again));
        next = again;
    }
    SECTION("a row longer than a block, and rows that grow a block past its bound") {
        auto& software = next["software"].as_array();
        auto long_row = package("pkg-0150-long", "1.0");
        long_row["vendor"] = std::string(3000, 'v');
        software.push_back(long_row);
        for (std::size_t i = 60; i < 100; ++i) {
            software[i].as_object()["vendor"] = "Debian, " + std::string(100, 'x');
        }
        REQUIRE(h.send(next));
        auto again = next;
        again["software"].as_array()[51].as_object()["version"] = "1.1";  // beside the long row
        REQUIRE(h.send(again));
        next = again;
    }
    SECTION("a row section set to null and back to rows") {
        next["software"] = nullptr;
        REQUIRE(h.send(next));
        CHECK(h.blocks() == 0);
        auto again = next;
        again["software"] = numbered("back", 0, 90, "4.0");
        REQUIRE(h.send(again));
        next = again;
    }
    CHECK(h.bad_blocks() == 0);
    CHECK(h.stored_packages() == packages_of(next));
    // The state stored is the agent's, to the byte: a further delta still applies.
    auto more = next;
    more["software"].as_array().push_back(package("zzz-last", "1"));
    CHECK(h.send(more));
}

TEST_CASE("a state's blocks stay in their B-tree cells, also after deltas") {
    // 900 packages with names and versions of Debian's lengths.
    json::array software;
    for (int i = 0; i < 900; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "lib%s-package-%04d", i % 3 ? "x11" : "perl", i);
        software.push_back(package(name, "2.36.1-8+deb12u1"));
    }
    agent_host h(software);
    CHECK(h.blocks() > 50);
    CHECK(h.overflow_pages() == 0);
    auto next = h.inventory;
    for (std::size_t i = 0; i < 900; i += 7) {
        next["software"].as_array()[i].as_object()["version"] = "2.36.1-8+deb12u2~longer";
    }
    REQUIRE(h.send(next));
    CHECK(h.overflow_pages() == 0);
    CHECK(h.bad_blocks() == 0);

    // A block rewritten under its label keeps its row, and so its place in the table.
    auto ids = h.block_ids();
    auto again = next;
    again["software"].as_array()[450].as_object()["version"] = "2.36.1-9";
    REQUIRE(h.send(again));
    CHECK(h.block_ids() == ids);
}

TEST_CASE("a delta that fails part way leaves the stored rows as they were") {
    agent_host h(numbered("pkg", 0, 100, "1.0"));
    auto next = h.inventory;
    next["software"].as_array()[10].as_object()["version"] = "2.0";
    auto good = muster::test::delta_report(h.id, 2, 1, h.inventory, next);

    SECTION("a later section does not apply") {
        auto bad = good;
        bad.document["changes"].as_object()["users"] =
            json::object{{"removed", holding(json::array{"nobody-here"})}};
        CHECK(h.ingest(muster::test::finish(h.id, bad.document)) == ingest_status::resync);
    }
    SECTION("the hash of the result differs") {
        auto bad = good;
        bad.document["state_hash"] = std::string(64, 'a');
        CHECK(h.ingest(muster::test::finish(h.id, bad.document)) == ingest_status::resync);
    }
    SECTION("a changed row that is not there, beside one that is") {
        auto bad = good;
        bad.document["changes"].as_object()["software"].as_object()["changed"].as_array().push_back(
            package("not-installed", "1"));
        CHECK(h.ingest(muster::test::finish(h.id, bad.document)) == ingest_status::resync);
    }
    SECTION("an added row that is already there") {
        auto bad = good;
        bad.document["changes"].as_object()["software"].as_object()["added"] =
            json::array{package("pkg-0050", "9")};
        CHECK(h.ingest(muster::test::finish(h.id, bad.document)) == ingest_status::resync);
    }
    SECTION("a key with a floating point number") {
        auto bad = good;
        bad.document["changes"].as_object()["software"].as_object()["removed"] =
            holding(json::array{"deb", 1.5, "amd64"});
        CHECK(h.ingest(muster::test::finish(h.id, bad.document)) == ingest_status::resync);
    }
    // The base is untouched: the good delta still applies to it.
    CHECK(h.ingest(good) == ingest_status::ok);
    CHECK(h.stored_packages() == packages_of(next));
}

TEST_CASE("a random walk of deltas keeps the stored state equal to the agent's") {
    agent_host h(numbered("pkg", 0, 300, "1"));
    std::mt19937 random(20261130);
    int next_name = 300;
    for (int round = 0; round < 60; ++round) {
        auto next = h.inventory;
        auto& software = next["software"].as_array();
        int operations = 1 + static_cast<int>(random() % 6);
        for (int i = 0; i < operations; ++i) {
            auto at = random() % software.size();
            switch (random() % 3) {
                case 0:
                    software[at].as_object()["version"] = std::to_string(round);
                    break;
                case 1:
                    if (software.size() > 1) software.erase(software.begin() + at);
                    break;
                default:
                    // Names anywhere in the order: before, between and after the others.
                    software.push_back(package(
                        std::to_string(random() % 1000) + "-" + std::to_string(next_name++), "1"));
            }
        }
        INFO("round " << round);
        REQUIRE(h.send(next));
        REQUIRE(h.bad_blocks() == 0);
    }
    CHECK(h.stored_packages() == packages_of(h.inventory));
}
