// Check results in reports (docs/protocol.md, "Health checks"): the session
// makes a report from the last state when no new inventory was taken, a delta
// with no changes carrying the results and expected_interval, spooled like any
// report; without a previous state it says an inventory is needed.
#include "agent/wire/session.h"
#include "checks_support.h"
#include "common/gzip.h"
#include "support/process.h"

#include <catch2/catch.hpp>

using namespace checks_test;
namespace wire = muster::agent::wire;

namespace {

muster::agent::agent_config session_config(const std::string& dir) {
    auto config = config_of(
        "collector:\n"
        "  url: https://127.0.0.1:1\n"
        "  ca_fingerprint: " +
        std::string(64, '0') +
        "\n"
        "state_dir: " +
        dir +
        "/state\n"
        "checks:\n"
        "  - {id: swap, type: swap_used, interval: 1m}\n");
    return config;
}

boost::json::object spooled_body(const std::string& dir, std::uint64_t seq) {
    wire::spool spool(dir + "/state/spool", 1 << 20);
    auto entry = spool.read(seq);
    REQUIRE(entry);
    auto text = muster::gzip_decompress(entry->body, 1 << 20);
    REQUIRE(text);
    return boost::json::parse(*text).as_object();
}

}  // namespace

TEST_CASE(
    "a report of check results alone is a delta with no changes from the "
    "last state") {
    muster::test::temp_dir dir;
    auto config = session_config(dir.path());
    wire::agent_session session(config);
    wire::report_extras extras;
    extras.expected_interval = 60;
    extras.checks = checks::to_json(checks::run_all(config.checks));

    // Nothing reported yet: the next report must be full, which needs an
    // inventory.
    CHECK(!session.make_report_from_last_state(extras));

    boost::json::object inventory{{"system", {{"hostname", "web-1"}}}};
    auto first = session.make_report(inventory, extras);
    auto full = spooled_body(dir.path(), first);
    CHECK(full.at("kind") == "full");
    CHECK(full.at("expected_interval") == 60);
    CHECK(full.at("checks").as_array().size() == 1);

    auto second = session.make_report_from_last_state(extras);
    REQUIRE(second);
    CHECK(*second == first + 1);
    auto delta = spooled_body(dir.path(), *second);
    CHECK(delta.at("kind") == "delta");
    CHECK(delta.at("base_seq") == first);
    CHECK(delta.at("changes").as_object().empty());
    CHECK(delta.at("state_hash") == full.at("state_hash"));
    CHECK(delta.at("expected_interval") == 60);
    const auto& result = delta.at("checks").as_array().at(0).as_object();
    CHECK(result.at("id") == "swap");
    CHECK(result.at("type") == "swap_used");
    CHECK(result.at("severity") == "medium");
    CHECK(result.at("interval") == 60);
    CHECK(result.at("status").is_string());
    CHECK(result.at("checked_at").as_int64() > 1700000000);

    // Without extras the body has neither member.
    auto third = session.make_report_from_last_state({});
    REQUIRE(third);
    auto plain = spooled_body(dir.path(), *third);
    CHECK(!plain.contains("checks"));
    CHECK(!plain.contains("expected_interval"));
}

TEST_CASE(
    "a result's JSON has exactly the fields of the protocol, whole "
    "numbers as integers") {
    checks::check_result r{
        "root-disk",
        "disk_usage",
        "high",
        checks::outcome_of(checks::check_status::warning, "/ is 91.2% full", 91.2, "%"),
        1764460800,
        60,
        3};
    auto json = checks::to_json(r);
    CHECK(boost::json::serialize(json) ==
          R"({"id":"root-disk","type":"disk_usage","severity":"high","status":"warning",)"
          R"("message":"/ is 91.2% full","value":9.12E1,"unit":"%","checked_at":1764460800,)"
          R"("interval":60,"duration_ms":3})");
    r.outcome.value = 3;
    CHECK(checks::to_json(r).at("value").is_int64());
    r.outcome.value.reset();
    CHECK(checks::to_json(r).at("value").is_null());
}
