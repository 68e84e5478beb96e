#pragma once
// A real collector installation for integration tests: `muster-collector init` into a temporary
// directory on a free loopback port, `serve` in the background, and `muster-agent once` with
// the agent.yaml that init wrote. Config files are edited by appending YAML, the way an admin
// would. Header-only so each test binary takes only what it uses.
#include "common/file.h"
#include "common/sqlite.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <memory>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace muster::test {

struct installation {
    temp_dir dir;
    int port = free_loopback_port();

    installation() {
        auto init = run({MUSTER_COLLECTOR_BIN, "init", "--dir", dir.path() + "/c", "--listen",
                         "127.0.0.1:" + std::to_string(port)});
        INFO(init.out << init.err);
        REQUIRE(init.exit_code == 0);
    }

    std::string path(const std::string& name) const { return dir.path() + "/" + name; }
    // A file of the collector's directory (collector.yaml, agent.yaml, cmdb.sqlite, ca.pem).
    std::string c(const std::string& name) const { return path("c/" + name); }
    std::string url(const std::string& api) const {
        return "https://127.0.0.1:" + std::to_string(port) + api;
    }

    std::unique_ptr<background_process> start_collector() const {
        auto p = std::make_unique<background_process>(
            std::vector<std::string>{MUSTER_COLLECTOR_BIN, "serve", "--config",
                                     c("collector.yaml")},
            path("collector.log"));
        REQUIRE(wait_for_port(port));
        return p;
    }

    // One agent cycle; returns its exit code and its log.
    std::pair<int, std::string> agent_once() const {
        auto r = run({MUSTER_AGENT_BIN, "once", "--config", c("agent.yaml")});
        return {r.exit_code, r.err + r.out};
    }

    void append(const std::string& file, const std::string& yaml) const {
        auto text = read_file(c(file));
        REQUIRE(text);
        REQUIRE(write_file_atomic(c(file), *text + "\n" + yaml));
    }

    // Replaces everything from the line that starts with `key:` to the end of the file.
    void replace_tail(const std::string& file, const std::string& key,
                      const std::string& yaml) const {
        auto text = read_file(c(file));
        REQUIRE(text);
        auto at = text->find("\n" + key + ":");
        REQUIRE(at != std::string::npos);
        REQUIRE(write_file_atomic(c(file), text->substr(0, at + 1) + yaml));
    }

    // Lifts the collector's per-agent rate limit (60 reports a minute by default, meant for
    // agents on a timer), for tests whose agent runs follow one another as fast as they can.
    void lift_rate_limit() const {
        auto text = read_file(c("collector.yaml"));
        REQUIRE(text);
        auto config = std::regex_replace(*text, std::regex("agent_rate_per_minute: 60"),
                                         "agent_rate_per_minute: 100000");
        REQUIRE(config.find("agent_rate_per_minute: 100000") != std::string::npos);
        REQUIRE(write_file_atomic(c("collector.yaml"), config, 0600));
    }

    sqlite_database cmdb() const {
        return sqlite_database(c("cmdb.sqlite"), sqlite_open::read_only);
    }

    std::string collector_log() const {
        auto text = read_file(path("collector.log"));
        return text ? *text : std::string();
    }
};

}  // namespace muster::test
