// docs/configuration.md documents exactly the keys collector::load_collector_config reads:
// every key the loader looks up while reading config/collector.yaml (which has every section,
// a webhook of every format and services), and no other.
#include "collector/config.h"
#include "common/config.h"
#include "common/file.h"
#include "support/config_reference.h"

#include <catch2/catch.hpp>

#include <set>

namespace {

using keys = std::set<std::string, std::less<>>;

const char* const example = MUSTER_SOURCE_DIR "/config/collector.yaml";

keys keys_read() {
    muster::config_key_recorder recorder;
    muster::collector::load_collector_config(example);
    return recorder.keys();
}

keys keys_documented() {
    auto text = muster::read_file(MUSTER_SOURCE_DIR "/docs/configuration.md");
    REQUIRE(text.has_value());
    return muster::test::documented_keys(*text, "collector.yaml");
}

}  // namespace

TEST_CASE("the example collector.yaml reaches every branch of the loader") {
    auto config = muster::collector::load_collector_config(example);
    std::set<muster::collector::notify::webhook_format> formats;
    for (const auto& hook : config.notifications.webhooks) formats.insert(hook.format);
    CHECK(formats.size() == 3);
    CHECK_FALSE(config.incidents.services.empty());
}

TEST_CASE("docs/configuration.md documents every collector.yaml key and only those") {
    auto read = keys_read();
    REQUIRE(read.contains("listen"));
    REQUIRE(read.contains("notifications.webhooks[].routing_key"));
    REQUIRE(read.contains("incidents.sla.P4.resolution"));
    auto differences = muster::test::key_differences(read, keys_documented());
    INFO(differences);
    CHECK(differences.empty());
}

TEST_CASE("a key the collector loader reads but the reference lacks is reported") {
    // What a loader gaining a key looks like to the check: one more key read.
    auto read = keys_read();
    read.insert("limits.max_headers");
    CHECK(muster::test::key_differences(read, keys_documented()) ==
          "read by the loader, not documented: limits.max_headers\n");
}
