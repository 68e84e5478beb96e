#pragma once
// Helpers for the health check tests: a check made from the YAML of agent.yaml's `checks:`
// list, exactly as the agent reads it, run through the real runner.
#include "agent/checks/runner.h"
#include "agent/config.h"

#include <catch2/catch.hpp>

#include <string>

namespace checks_test {

namespace checks = muster::agent::checks;

// The config of one YAML document holding `checks:` (and whatever else the text has).
inline muster::agent::agent_config config_of(const std::string& yaml) {
    return muster::agent::read_agent_config(muster::load_yaml_string(yaml, "agent.yaml"));
}

// The config error of a text, or "" when it is valid.
inline std::string error_of(const std::string& yaml) {
    try {
        config_of(yaml);
    } catch (const muster::config_error& e) {
        return e.what();
    }
    return "";
}

// Runs the one check described by item (the YAML of a list item without its "- ", indented
// by four spaces per line) under root.
inline checks::check_result run_check(const std::string& item, const std::string& root = "/") {
    auto config = config_of("checks:\n  - " + item.substr(4) + "\n");
    REQUIRE(config.checks.size() == 1);
    checks::check_runner runner(root);
    auto results = runner.run({&config.checks.front()});
    REQUIRE(results.size() == 1);
    INFO(results.front().outcome.message);
    return results.front();
}

inline std::string status_of(const checks::check_result& r) {
    return std::string(checks::status_name(r.outcome.status));
}

}  // namespace checks_test
