// The agent's configuration file: the shipped example stays valid, and each kind of mistake
// is refused with its position.
#include "agent/config.h"

#include <catch2/catch.hpp>

#include <string>

using muster::agent::load_agent_config;
using muster::agent::read_agent_config;

namespace {

const std::string fixtures = MUSTER_FIXTURES "/config/";

std::string error_of(const std::string& path) {
    try {
        load_agent_config(path);
    } catch (const muster::config_error& e) {
        return e.what();
    }
    return "";
}

std::string error_of_text(std::string_view text) {
    try {
        read_agent_config(muster::load_yaml_string(text, "agent.yaml"));
    } catch (const muster::config_error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("the example config/agent.yaml is valid and means what its comments say") {
    auto config = load_agent_config(MUSTER_SOURCE_DIR "/config/agent.yaml");
    CHECK(config.tags == std::vector<std::string>{"prod", "dc:paris-1", "team.web"});
    CHECK(config.log.level == "info");
    CHECK(config.log.format == muster::log_format::text);
}

TEST_CASE("a full config is read into the struct") {
    auto config = load_agent_config(fixtures + "agent-full.yaml");
    CHECK(config.tags == std::vector<std::string>{"web", "dc:par-2", "rack_7.b"});
    CHECK(config.log.level == "debug");
    CHECK(config.log.format == muster::log_format::json);
    CHECK(config.log.file.empty());
    CHECK(config.log.name == "agent");
}

TEST_CASE("a config with everything commented out gives the defaults") {
    auto config = load_agent_config(fixtures + "agent-comments-only.yaml");
    CHECK(config.tags.empty());
    CHECK(config.log.level == "info");
    CHECK(config.log.format == muster::log_format::text);
}

TEST_CASE("mistakes in agent configs are refused with file:line:column") {
    CHECK(error_of(fixtures + "agent-typo.yaml") ==
          fixtures +
              "agent-typo.yaml:3:1: unknown key 'tagz' (expected one of: checks, "
              "collector, inventory, log, spool, state_dir, tags)");
    CHECK(error_of(fixtures + "agent-bad-tag.yaml") ==
          fixtures +
              "agent-bad-tag.yaml:3:5: 'tags[1]': a tag may contain only letters, digits and _ . "
              ": - (got 'has space')");
    CHECK(error_of(fixtures + "agent-duplicate-tag.yaml") ==
          fixtures + "agent-duplicate-tag.yaml:1:17: 'tags[2]': duplicate tag 'web'");
    CHECK(error_of(fixtures + "agent-bad-level.yaml") ==
          fixtures +
              "agent-bad-level.yaml:2:10: 'log.level': expected one of trace, debug, info, warn, "
              "error, got 'verbose'");
    CHECK(error_of(fixtures + "agent-unknown-log-key.yaml") ==
          fixtures +
              "agent-unknown-log-key.yaml:3:3: unknown key 'file' in 'log' (expected one of: "
              "format, level)");
}

TEST_CASE("tag limits: length, count, characters") {
    std::string longest(muster::agent::max_tag_length, 'a');
    CHECK(error_of_text("tags: [" + longest + "]") == "");
    CHECK(error_of_text("tags: [" + longest + "b]") ==
          "agent.yaml:1:8: 'tags[0]': a tag has at most 64 characters, got 65");
    CHECK(error_of_text("tags: ['']") == "agent.yaml:1:8: 'tags[0]': a tag cannot be empty");
    CHECK(error_of_text("tags: [caf\xc3\xa9]").find("may contain only") != std::string::npos);

    std::string many = "tags: [";
    for (std::size_t i = 0; i <= muster::agent::max_tags; ++i)
        many += "t" + std::to_string(i) + ",";
    many.back() = ']';
    CHECK(error_of_text(many) == "agent.yaml:1:7: 'tags': at most 64 entries allowed, got 65");
}

TEST_CASE("an unknown key inside the collector section is refused, not ignored") {
    auto message = error_of_text("collector:\n  url: https://cmdb\n  proxy: http://p\n");
    CHECK(message.find("agent.yaml:3:3: unknown key 'proxy' in 'collector'") != std::string::npos);
}
