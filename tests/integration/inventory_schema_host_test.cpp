// The real agent on this machine: one JSON document, exit 0, valid against the documented
// schema.
#include "support/json_schema.h"
#include "support/process.h"

#include <catch2/catch.hpp>

TEST_CASE("muster-agent inventory on this machine prints a document that fits the schema") {
    auto result = muster::test::run({MUSTER_AGENT_BIN, "inventory"});
    REQUIRE(result.exit_code == 0);
    auto document = boost::json::parse(result.out);
    auto schema = muster::test::load_schema(MUSTER_SOURCE_DIR "/docs/inventory.schema.json");
    auto violations = muster::test::validate_json(schema, document);
    for (const auto& v : violations) UNSCOPED_INFO(v);
    CHECK(violations.empty());
}

TEST_CASE("pretty output prints the same document indented") {
    auto compact = muster::test::run({MUSTER_AGENT_BIN, "inventory"});
    auto pretty = muster::test::run({MUSTER_AGENT_BIN, "inventory", "--pretty"});
    REQUIRE(pretty.exit_code == 0);
    CHECK(pretty.out.find("\n  \"system\": ") != std::string::npos);
    auto a = boost::json::parse(compact.out).as_object();
    auto b = boost::json::parse(pretty.out).as_object();
    // Volatile values differ between two runs; the shape must not.
    CHECK(a.size() == b.size());
    CHECK(a.at("software") == b.at("software"));
}

TEST_CASE("a bad command line is refused with usage and exit code 2") {
    auto result = muster::test::run({MUSTER_AGENT_BIN, "inventory", "--bogus"});
    CHECK(result.exit_code == 2);
    CHECK(result.err.find("--bogus") != std::string::npos);
}
