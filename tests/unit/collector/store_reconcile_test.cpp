// Identity reconciliation (docs/cmdb.md, "Identity rules"): the cases of issue 5, each
// driven through real ingest on a real database file.
#include "unit/collector/store_fleet.h"

#include <catch2/catch.hpp>

namespace {

namespace json = boost::json;
using muster::collector::ingest_status;
using muster::test::host_facts;

using fleet = muster::test::store_fleet;

}  // namespace

TEST_CASE("a reimaged machine stays the same CI with its history and a new agent") {
    fleet f;
    auto old_agent = f.enroll("old", 1000);
    host_facts facts;
    f.full(old_agent, facts, 2000);
    auto ci = f.ci_of(old_agent);

    facts.machine_id = "aaaaaaaabbbbbbbbccccccccdddddddd";
    facts.packages.pop_back();
    auto new_agent = f.enroll("new", 3000);  // the old agent has been silent since 2000
    f.full(new_agent, facts, 3100);

    CHECK(f.ci_of(new_agent) == ci);
    CHECK(f.count_cis() == 1);
    CHECK(f.text("SELECT matched_rule FROM cis WHERE id = ?1", ci) == "product_uuid+serial");
    CHECK(f.text("SELECT current_agent_id FROM cis WHERE id = ?1", ci) == new_agent.id);
    CHECK(f.text("SELECT machine_id FROM cis WHERE id = ?1", ci) == facts.machine_id);
    CHECK(f.number("SELECT duplicate_identity FROM cis WHERE id = ?1", ci) == 0);
    CHECK(f.number("SELECT count(*) FROM ci_history WHERE ci_id = ?1 AND change = 'discovered'",
                   ci) == 1);
    CHECK(f.text("SELECT new_value FROM ci_history WHERE ci_id = ?1 AND change = 'attached'", ci) ==
          new_agent.id);
    CHECK(f.text("SELECT new_value FROM ci_history WHERE ci_id = ?1 AND section = 'system' "
                 "AND key = 'machine_id'",
                 ci) == facts.machine_id);
    CHECK(f.text("SELECT key FROM ci_history WHERE ci_id = ?1 AND change = 'removed'", ci) ==
          "deb/curl/amd64");
    CHECK(f.number("SELECT count(*) FROM ci_software WHERE ci_id = ?1", ci) == 2);
}

TEST_CASE("cloned VMs become two CIs flagged as a duplicate identity") {
    fleet f;
    auto original = f.enroll("original", 1000);
    host_facts facts;
    f.full(original, facts, 2000);
    auto clone = f.enroll("clone", 3000);
    f.delta(original, facts, 3050);  // still reporting after the clone enrolled

    auto clone_facts = facts;
    clone_facts.machine_id = "11111111222222223333333344444444";
    clone_facts.hostname = "web-1-clone";
    f.full(clone, clone_facts, 3100);

    auto original_ci = f.ci_of(original);
    auto clone_ci = f.ci_of(clone);
    CHECK(original_ci != clone_ci);
    CHECK(f.number("SELECT duplicate_identity FROM cis WHERE id = ?1", original_ci) == 1);
    CHECK(f.number("SELECT duplicate_identity FROM cis WHERE id = ?1", clone_ci) == 1);
    CHECK(f.number("SELECT duplicate_of FROM cis WHERE id = ?1", clone_ci) == original_ci);
    CHECK(f.text("SELECT matched_rule FROM cis WHERE id = ?1", clone_ci) ==
          "duplicate:product_uuid+serial");
    CHECK(f.text("SELECT current_agent_id FROM cis WHERE id = ?1", original_ci) == original.id);

    // Both keep reporting, each to its own CI.
    f.delta(original, facts, 4000);
    f.delta(clone, clone_facts, 4001);
    CHECK(f.ci_of(original) == original_ci);
    CHECK(f.ci_of(clone) == clone_ci);
    CHECK(f.text("SELECT hostname FROM cis WHERE id = ?1", original_ci) == "web-1");
    CHECK(f.text("SELECT hostname FROM cis WHERE id = ?1", clone_ci) == "web-1-clone");
}

TEST_CASE("a clone noticed only after it took the CI over moves to a CI of its own") {
    fleet f;
    auto original = f.enroll("original", 1000);
    host_facts facts;
    f.full(original, facts, 2000);
    auto clone = f.enroll("clone", 3000);
    auto clone_facts = facts;
    clone_facts.machine_id = "11111111222222223333333344444444";
    f.full(clone, clone_facts, 3100);  // looks like a reimage: the original was silent
    REQUIRE(f.ci_of(clone) == f.ci_of(original));

    f.delta(original, facts, 3200);  // but the original reports again
    CHECK(f.ci_of(original) != f.ci_of(clone));
    CHECK(f.number("SELECT duplicate_identity FROM cis WHERE id = ?1", f.ci_of(original)) == 1);
    CHECK(f.number("SELECT duplicate_identity FROM cis WHERE id = ?1", f.ci_of(clone)) == 1);
}

TEST_CASE("a container never takes its host's hardware identity") {
    fleet f;
    auto host = f.enroll("host", 1000);
    host_facts facts;
    f.full(host, facts, 2000);

    auto container = f.enroll("container", 1000);
    auto inside = facts;
    inside.container = "docker";
    inside.hostname = "3f2a9c1d0b7e";
    inside.machine_id = "99999999888888887777777766666666";
    inside.mac = "02:42:ac:11:00:02";
    f.full(container, inside, 2100);

    auto container_ci = f.ci_of(container);
    CHECK(container_ci != f.ci_of(host));
    CHECK(f.text("SELECT matched_rule FROM cis WHERE id = ?1", container_ci) == "new");
    CHECK(f.text("SELECT product_uuid FROM cis WHERE id = ?1", container_ci) == "NULL");
    CHECK(f.text("SELECT serial FROM cis WHERE id = ?1", container_ci) == "NULL");
    CHECK(f.text("SELECT container FROM cis WHERE id = ?1", container_ci) == "docker");
    // The firmware facts are still shown, just not used as identity.
    CHECK(f.text("SELECT hw_serial FROM cis WHERE id = ?1", container_ci) == facts.serial);
}

TEST_CASE("a renamed host stays the same CI, with the rename in its history") {
    fleet f;
    auto a = f.enroll("a", 1000);
    host_facts facts;
    f.full(a, facts, 2000);
    auto ci = f.ci_of(a);
    facts.hostname = "db-1";
    f.delta(a, facts, 3000);
    CHECK(f.ci_of(a) == ci);
    CHECK(f.text("SELECT hostname FROM cis WHERE id = ?1", ci) == "db-1");
    auto rename = f.db.prepare(
        "SELECT section, key, old_value, new_value, seq FROM ci_history WHERE ci_id = ?1 AND "
        "change = 'renamed'");
    rename.bind(1, ci);
    REQUIRE(rename.step());
    CHECK(rename.column_text(0) == "system");
    CHECK(rename.column_text(1) == "hostname");
    CHECK(rename.column_text(2) == "web-1");
    CHECK(rename.column_text(3) == "db-1");
    CHECK(rename.column_int64(4) == 2);
    CHECK_FALSE(rename.step());

    SECTION("and a full report after a reinstall under the new name finds it again") {
        auto b = f.enroll("b", 4000);
        f.full(b, facts, 4100);
        CHECK(f.ci_of(b) == ci);
    }
}

TEST_CASE("a host without identifying fields is held and never merged") {
    fleet f;
    host_facts anonymous;
    anonymous.product_uuid = "00000000-0000-0000-0000-000000000000";  // a placeholder
    anonymous.serial = "To Be Filled By O.E.M.";
    anonymous.machine_id = "";
    anonymous.mac = "";
    auto a = f.enroll("a", 1000);
    auto b = f.enroll("b", 1000);
    f.full(a, anonymous, 2000);
    f.full(b, anonymous, 2001);
    CHECK(f.ci_of(a) != f.ci_of(b));
    for (auto ci : {f.ci_of(a), f.ci_of(b)}) {
        CHECK(f.number("SELECT held FROM cis WHERE id = ?1", ci) == 1);
        CHECK(f.text("SELECT matched_rule FROM cis WHERE id = ?1", ci) == "held");
        CHECK(f.text("SELECT product_uuid FROM cis WHERE id = ?1", ci) == "NULL");
    }
}

TEST_CASE("the rules apply in order, and the rule that matched is recorded") {
    fleet f;
    auto first = f.enroll("first", 1000);
    host_facts facts;
    f.full(first, facts, 2000);
    auto ci = f.ci_of(first);

    auto expect_rule = [&](const std::string& seed, host_facts changed, const std::string& rule) {
        auto next = f.enroll(seed, 3000);
        f.full(next, changed, 3100);
        CHECK(f.ci_of(next) == ci);
        CHECK(f.text("SELECT matched_rule FROM cis WHERE id = ?1", ci) == rule);
    };
    SECTION("serial alone") {
        auto changed = facts;
        changed.product_uuid = "";
        expect_rule("b", changed, "serial");
    }
    SECTION("machine-id") {
        auto changed = facts;
        changed.product_uuid = "";
        changed.serial = "";
        expect_rule("b", changed, "machine_id");
    }
    SECTION("hostname with the primary MAC") {
        auto changed = facts;
        changed.product_uuid = "";
        changed.serial = "";
        changed.machine_id = "";
        changed.mac = "52:54:00:12:34:56";
        expect_rule("b", changed, "hostname+primary_mac");
    }
    SECTION("a different machine matches nothing") {
        host_facts other;
        other.product_uuid = "11111111-2222-3333-4444-555555555555";
        other.serial = "OTHER";
        other.machine_id = "ffffffffeeeeeeeeddddddddcccccccc";
        other.hostname = "web-2";
        other.mac = "52:54:00:99:99:99";
        auto next = f.enroll("c", 3000);
        f.full(next, other, 3100);
        CHECK(f.ci_of(next) != ci);
        CHECK(f.count_cis() == 2);
    }
}
