// docs/configuration.md documents exactly the keys agent::load_agent_config reads: every key
// the loader looks up while reading config/agent.yaml (which has every section and a check of
// every type), and no other.
#include "agent/checks/registry.h"
#include "agent/config.h"
#include "common/config.h"
#include "common/file.h"
#include "support/config_reference.h"

#include <catch2/catch.hpp>

#include <set>

namespace {

using keys = std::set<std::string, std::less<>>;

const char* const example = MUSTER_SOURCE_DIR "/config/agent.yaml";

keys keys_read(const std::filesystem::path& path) {
    muster::config_key_recorder recorder;
    // delivery: the collector section is read only for once and run.
    muster::agent::load_agent_config(path, muster::agent::config_use::delivery);
    return recorder.keys();
}

keys keys_documented() {
    auto text = muster::read_file(MUSTER_SOURCE_DIR "/docs/configuration.md");
    REQUIRE(text.has_value());
    return muster::test::documented_keys(*text, "agent.yaml");
}

}  // namespace

TEST_CASE("the example agent.yaml has a check of every type, so every check key is read") {
    auto config = muster::agent::load_agent_config(example, muster::agent::config_use::delivery);
    std::set<std::string, std::less<>> types;
    for (const auto& check : config.checks) types.insert(check.type);
    for (const auto& type : muster::agent::checks::all_check_types()) {
        INFO("check type " << type.name);
        CHECK(types.contains(type.name));
    }
}

TEST_CASE("docs/configuration.md documents every agent.yaml key and only those") {
    auto read = keys_read(example);
    REQUIRE(read.contains("collector.url"));
    REQUIRE(read.contains("checks[].argv"));
    auto differences = muster::test::key_differences(read, keys_documented());
    INFO(differences);
    CHECK(differences.empty());
}

TEST_CASE("a key dropped from the agent reference is reported") {
    auto documented = keys_documented();
    REQUIRE(documented.erase("spool.max_bytes") == 1);
    CHECK(muster::test::key_differences(keys_read(example), documented) ==
          "read by the loader, not documented: spool.max_bytes\n");
}
