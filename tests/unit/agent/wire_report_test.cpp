// Reports: the first is full, the next a delta that the collector's apply_changes turns into
// exactly the new state; the signature covers the gzip bytes; an unchanged host's delta is
// small on the wire (the figure is printed).
#include "agent/inventory/collectors.h"
#include "agent/wire/report.h"
#include "common/gzip.h"
#include "common/inventory_state.h"

#include <catch2/catch.hpp>

#include <iostream>

namespace {

using muster::agent::wire::build_report;
using muster::agent::wire::report_input;

boost::json::object fixture_inventory() {
    muster::agent::inventory::context ctx(MUSTER_FIXTURES "/roots/debian", {"web", "prod"});
    return muster::agent::inventory::collect_inventory(ctx);
}

boost::json::object body_of(const muster::agent::wire::built_report& r) {
    auto text = muster::gzip_decompress(r.entry.body, 64 << 20);
    REQUIRE(text);
    CHECK(*text == r.json);
    return boost::json::parse(*text).as_object();
}

report_input input(const muster::ed25519_key& key, std::uint64_t seq, boost::json::object state,
                   const boost::json::object* base = nullptr, std::uint64_t base_seq = 0) {
    report_input in;
    in.key = &key;
    in.agent_id = "agent-1";
    in.seq = seq;
    in.sent_at = 1764000000;
    in.state = std::move(state);
    in.base_state = base;
    in.base_seq = base_seq;
    return in;
}

}  // namespace

TEST_CASE("the first report is full and signed over the exact gzip bytes") {
    auto key = muster::ed25519_key::generate();
    auto state = muster::make_state(fixture_inventory());
    auto report = build_report(input(key, 1, state));
    CHECK(report.entry.kind == "full");
    CHECK(report.entry.state_hash == muster::state_hash(state));

    auto body = body_of(report);
    CHECK(body.at("protocol") == 1);
    CHECK(body.at("agent_id") == "agent-1");
    CHECK(body.at("seq") == 1);
    CHECK(body.at("sent_at") == 1764000000);
    CHECK(body.at("kind") == "full");
    CHECK(body.at("base_seq") == 0);
    CHECK(body.at("state_hash").as_string() == report.entry.state_hash);
    CHECK(body.at("inventory") == state);
    CHECK_FALSE(body.contains("changes"));

    auto public_only = muster::ed25519_key::from_public_raw(key.public_raw());
    CHECK(muster::ed25519_verify(public_only, report.entry.body, report.entry.signature));
    auto flipped = report.entry.body;
    flipped[flipped.size() / 2] ^= 1;
    CHECK_FALSE(muster::ed25519_verify(public_only, flipped, report.entry.signature));
}

TEST_CASE("a delta applied to the base state gives exactly the new state") {
    auto key = muster::ed25519_key::generate();
    auto inventory = fixture_inventory();
    auto old_state = muster::make_state(inventory);
    auto& users = inventory["users"].as_array();
    REQUIRE(users.size() > 1);
    users.erase(users.begin());
    inventory["system"].as_object()["hostname"] = "renamed";
    auto new_state = muster::make_state(inventory);

    auto report = build_report(input(key, 8, new_state, &old_state, 7));
    CHECK(report.entry.kind == "delta");
    CHECK(report.entry.base_seq == 7);
    auto body = body_of(report);
    CHECK(body.at("base_seq") == 7);
    CHECK_FALSE(body.contains("inventory"));
    const auto& changes = body.at("changes").as_object();
    CHECK(changes.size() == 2);
    CHECK(changes.at("users").at("removed").as_array().size() == 1);
    auto applied = muster::apply_changes(old_state, changes);
    REQUIRE(applied);
    CHECK(muster::state_hash(*applied) == body.at("state_hash").as_string());
}

TEST_CASE("an unchanged host's delta is at most 1 KB on the wire") {
    // This machine's own inventory, with its real package list, as a realistic full report.
    auto key = muster::ed25519_key::generate();
    muster::agent::inventory::context live("/", {"web", "prod"});
    auto state = muster::make_state(muster::agent::inventory::collect_inventory(live));
    auto full = build_report(input(key, 1, state));
    auto delta = build_report(input(key, 2, state, &state, 1));
    CHECK(body_of(delta).at("changes") == boost::json::object{});
    std::cout << "steady-state delta: " << delta.entry.body.size() << " bytes gzip body + " << 88
              << " bytes of base64 signature header; full report: " << full.entry.body.size()
              << " bytes gzip\n";
    CHECK(delta.entry.body.size() <= 1024);
    CHECK(delta.entry.body.size() < full.entry.body.size());
}
