// The pieces of the config reference check (docs/configuration.md): the recorder that sees
// which keys a loader reads, and the reader of the reference's key tables. The comparison
// itself runs in test_agent_config_reference_test and
// test_collector_config_reference_test.
#include "support/config_reference.h"
#include "common/config.h"

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace std::chrono_literals;
using muster::config_key_recorder;
using muster::config_map;
using muster::load_yaml_string;
using muster::read_config;
using keys = std::set<std::string, std::less<>>;

namespace {

void read_example(config_map& root) {
    root.get_string("name", "");
    config_map log = root.get_map("log");
    log.get_enum("level", {"debug", "info"}, "info");
    log.get_duration("rotate", 1h, 1s, 24h);
    for (auto& item : root.get_map_list("checks")) {
        item.get_string("id");
        if (item.has("path")) item.get_string("path");
        item.get_int("port", 0, 0, 65535);
    }
}

}  // namespace

TEST_CASE("the recorder sees every key asked, present or not, with list positions dropped") {
    auto doc = load_yaml_string(
        "name: web\n"
        "log: {level: debug}\n"
        "checks:\n"
        "  - {id: a}\n"
        "  - {id: b, path: /}\n",
        "test.yaml");
    config_key_recorder recorder;
    read_config(doc, read_example);
    // Sections (log, checks) are not keys; absent keys (log.rotate, checks[].port) are.
    CHECK(recorder.keys() ==
          keys{"name", "log.level", "log.rotate", "checks[].id", "checks[].path", "checks[].port"});
}

TEST_CASE("a key only asked with has() is recorded, so branches not taken are seen") {
    auto doc = load_yaml_string("checks: [{id: a}]\n", "test.yaml");
    config_key_recorder recorder;
    read_config(doc, read_example);
    CHECK(recorder.keys().contains("checks[].path"));
}

TEST_CASE("a nested recorder takes over until it ends, then the outer one records again") {
    auto doc = load_yaml_string("name: web\n", "test.yaml");
    {
        config_key_recorder outer;
        {
            config_key_recorder inner;
            read_config(doc, [](config_map& root) { root.get_string("name", ""); });
            CHECK(inner.keys() == keys{"name"});
        }
        CHECK(outer.keys().empty());
        read_config(doc, [](config_map& root) {
            root.get_string("name", "");
            root.get_int("other", 0, 0, 1);
        });
        CHECK(outer.keys() == keys{"name", "other"});
    }
    // No recorder left: reading must not touch the destroyed ones (the sanitizer pass
    // would catch a dangling one).
    read_config(doc, [](config_map& root) { root.get_string("name", ""); });
}

TEST_CASE("the reference reader takes key rows of the named file's section only") {
    std::string_view markdown =
        "# Configuration\n"
        "| `not.a.key` | outside any file section |\n"
        "## agent.yaml\n"
        "| Key | Type |\n"
        "|---|---|\n"
        "| `collector.url` | string |\n"
        "### checks\n"
        "| `checks[].path` | path (disk_usage) |\n"
        "| `checks[].path` | path (file_age) |\n"
        "## collector.yaml\n"
        "| `listen` | HOST:PORT |\n"
        "## Value syntax\n"
        "| `30s` | a duration |\n";
    CHECK(muster::test::documented_keys(markdown, "agent.yaml") ==
          keys{"collector.url", "checks[].path"});
    CHECK(muster::test::documented_keys(markdown, "collector.yaml") == keys{"listen"});
}

TEST_CASE("a key row without its closing backtick is an error naming the line") {
    std::string_view markdown = "## agent.yaml\n| `collector.url | string |\n";
    CHECK_THROWS_WITH(muster::test::documented_keys(markdown, "agent.yaml"),
                      Catch::Contains("configuration.md:2:"));
}

TEST_CASE("differences name undocumented keys and documented keys nobody reads") {
    CHECK(muster::test::key_differences(keys{"a", "b"}, keys{"a", "b"}).empty());
    auto text = muster::test::key_differences(keys{"a", "new.key"}, keys{"a", "old.key"});
    CHECK(text ==
          "read by the loader, not documented: new.key\n"
          "documented, unknown to the loader: old.key\n");
}
