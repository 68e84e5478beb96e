// The delivery keys of agent.yaml (collector, state_dir, inventory, spool): required for
// once/run, optional for the inventory command, and each mistake refused with its position.
#include "agent/config.h"

#include <catch2/catch.hpp>

using muster::agent::config_use;

namespace {

std::string error_of(std::string_view text, config_use use = config_use::delivery) {
    try {
        muster::agent::read_agent_config(muster::load_yaml_string(text, "agent.yaml"), use);
    } catch (const muster::config_error& e) {
        return e.what();
    }
    return "";
}

constexpr std::string_view minimal =
    "collector:\n  url: https://127.0.0.1:8443\n  ca_file: /etc/ca.pem\n"
    "  enrollment_token: t0k\nstate_dir: /var/lib/m\n";

}  // namespace

TEST_CASE("the example config/agent.yaml is valid for delivery") {
    auto c = muster::agent::load_agent_config(MUSTER_SOURCE_DIR "/config/agent.yaml",
                                              config_use::delivery);
    REQUIRE(c.collector);
    CHECK(c.collector->url.host == "cmdb.example.net");
    CHECK(c.collector->url.port == 8443);
    CHECK(c.collector->ca_file == "/etc/muster/ca.pem");
    CHECK(c.state_dir == "/var/lib/muster-agent");
    CHECK(c.inventory_interval == std::chrono::hours(1));
    CHECK(c.inventory_splay == std::chrono::minutes(5));
    CHECK(c.spool_max_bytes == 64ull << 20);
}

TEST_CASE("a minimal delivery config, and the defaults") {
    auto c = muster::agent::read_agent_config(muster::load_yaml_string(minimal, "agent.yaml"),
                                              config_use::delivery);
    CHECK(c.collector->url.host == "127.0.0.1");
    CHECK(c.collector->url.host_is_ip);
    CHECK(c.collector->enrollment_token == "t0k");
    CHECK(c.inventory_interval == std::chrono::hours(1));
}

TEST_CASE("delivery needs the collector, a trust anchor and the state directory") {
    CHECK(error_of("tags: [a]\n") == "agent.yaml:1:1: missing required key 'url' in 'collector'");
    CHECK(error_of("state_dir: /x\ncollector:\n  ca_file: /ca.pem\n") ==
          "agent.yaml:2:1: missing required key 'url' in 'collector'");
    CHECK(error_of("state_dir: /x\ncollector:\n  url: https://h\n") ==
          "agent.yaml:3:3: 'collector': one of ca_file or ca_fingerprint is required to trust "
          "the collector");
    CHECK(error_of("collector:\n  url: https://h\n  ca_file: /ca.pem\n") ==
          "agent.yaml:1:1: missing required key 'state_dir'");
    CHECK(error_of("tags: [a]\n", config_use::inventory) == "");
}

TEST_CASE("bad collector values are refused with their position") {
    CHECK(error_of("collector:\n  url: http://h\n") ==
          "agent.yaml:2:8: 'collector.url': the URL must start with https://");
    CHECK(error_of("collector:\n  url: https://h:99999\n") ==
          "agent.yaml:2:8: 'collector.url': the port must be a number from 1 to 65535");
    CHECK(error_of("collector:\n  url: https://h\n  ca_fingerprint: abc\n")
              .find("agent.yaml:3:19: 'collector.ca_fingerprint': expected the SHA-256") == 0);
    CHECK(error_of("collector:\n  url: https://h\n  ca_file: ca.pem\n") ==
          "agent.yaml:3:12: 'collector.ca_file': must be an absolute path");
    std::string both = "collector:\n  url: https://h\n  ca_file: /ca.pem\n  ca_fingerprint: " +
                       std::string(64, 'A') + "\nstate_dir: /s\n";
    CHECK(error_of(both).find("set either ca_file or ca_fingerprint, not both") !=
          std::string::npos);
    CHECK(error_of(std::string(minimal) + "spool: {max_bytes: 1KiB}\n").find("'spool.max_bytes'") !=
          std::string::npos);
}

TEST_CASE("a fingerprint is normalized, IPv6 and base paths are understood") {
    std::string with_colons, plain;
    for (int i = 0; i < 32; ++i) {
        with_colons += (i ? ":" : "") + std::string("Ab");
        plain += "ab";
    }
    CHECK(muster::agent::normalize_fingerprint(with_colons) == plain);
    CHECK_FALSE(muster::agent::normalize_fingerprint(plain + "ab"));
    std::string problem;
    auto url = muster::agent::wire::parse_collector_url("https://[::1]:9/cmdb/", &problem);
    REQUIRE(url);
    CHECK(url->host == "::1");
    CHECK(url->host_is_ip);
    CHECK(url->port == 9);
    CHECK(url->base_path == "/cmdb");
    CHECK(url->authority() == "[::1]:9");
}
