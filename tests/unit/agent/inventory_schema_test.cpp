// The documented JSON Schema (docs/inventory.schema.json) and the code must not drift: every
// fixture tree's document validates, and the schema names exactly the sections the code has.
#include "agent/inventory/collectors.h"
#include "support/json_schema.h"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace muster::agent::inventory;

namespace {
boost::json::value schema() {
    return muster::test::load_schema(MUSTER_SOURCE_DIR "/docs/inventory.schema.json");
}
}  // namespace

TEST_CASE("the schema lists exactly the sections the collectors produce") {
    auto s = schema();
    const auto& properties = s.at("properties").get_object();
    std::vector<std::string> documented;
    for (const auto& [key, unused] : properties) documented.emplace_back(key);
    std::vector<std::string> produced = {"schema_version"};
    for (const auto& c : all_collectors()) produced.emplace_back(c.section);
    produced.emplace_back("errors");
    CHECK(documented == produced);
}

TEST_CASE("every fixture tree's inventory validates against the schema") {
    auto s = schema();
    std::vector<std::filesystem::path> roots = {MUSTER_FIXTURES "/empty-root"};
    for (const auto& entry : std::filesystem::directory_iterator(MUSTER_FIXTURES "/roots"))
        if (entry.is_directory()) roots.push_back(entry.path());
    for (const auto& root : roots) {
        DYNAMIC_SECTION("root " << root.filename().string()) {
            auto document = collect_inventory(context(root, {"web", "prod"}));
            auto violations = muster::test::validate_json(s, document);
            for (const auto& v : violations) UNSCOPED_INFO(v);
            CHECK(violations.empty());
        }
    }
}

TEST_CASE("the validator itself rejects a document that breaks the schema") {
    auto s = schema();
    auto document = collect_inventory(context(MUSTER_FIXTURES "/empty-root"));
    document["unexpected"] = 1;
    document["errors"] = boost::json::array{boost::json::object{{"section", 3}}};
    auto violations = muster::test::validate_json(s, document);
    CHECK(violations.size() >= 4);  // extra member, wrong type, two missing members
}
