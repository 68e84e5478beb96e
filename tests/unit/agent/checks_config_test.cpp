// The `checks:` list of agent.yaml: defaults, every type's keys, and each kind
// of mistake refused with file:line:column and the key.
#include "agent/checks/registry.h"
#include "checks_support.h"

#include <catch2/catch.hpp>

#include <set>

using namespace checks_test;
using namespace std::chrono_literals;

TEST_CASE("the example config/agent.yaml holds a valid check of every type") {
    auto config = muster::agent::load_agent_config(MUSTER_SOURCE_DIR "/config/agent.yaml");
    std::set<std::string> types;
    for (const auto& c : config.checks) types.insert(c.type);
    std::set<std::string> all;
    for (const auto& t : checks::all_check_types()) all.insert(std::string(t.name));
    CHECK(types == all);
    CHECK(config.checks.front().id == "root-disk");
}

TEST_CASE(
    "a check takes its defaults: 5 min interval, 10 s timeout, medium "
    "severity") {
    auto config = config_of("checks:\n  - {id: root, type: disk_usage, path: /}\n");
    REQUIRE(config.checks.size() == 1);
    const auto& c = config.checks.front();
    CHECK(c.id == "root");
    CHECK(c.type == "disk_usage");
    CHECK(c.interval == 5min);
    CHECK(c.timeout == 10s);
    CHECK(c.severity == "medium");
    CHECK(c.run);
    CHECK(config_of("log: {level: info}\n").checks.empty());
}

TEST_CASE("the common keys are read") {
    auto config = config_of(
        "checks:\n"
        "  - id: web\n"
        "    type: tcp_connect\n"
        "    host: 127.0.0.1\n"
        "    port: 80\n"
        "    interval: 30s\n"
        "    timeout: 2s\n"
        "    severity: high\n");
    const auto& c = config.checks.front();
    CHECK(c.interval == 30s);
    CHECK(c.timeout == 2s);
    CHECK(c.severity == "high");
}

TEST_CASE(
    "expected_interval is the inventory interval or the shortest check "
    "interval") {
    auto config = config_of(
        "inventory: {interval: 1h}\n"
        "checks:\n"
        "  - {id: a, type: disk_usage, path: /, interval: 10m}\n"
        "  - {id: b, type: swap_used, interval: 90s}\n");
    CHECK(checks::expected_interval_seconds(config.inventory_interval, config.checks) == 90);
    CHECK(checks::expected_interval_seconds(1h, {}) == 3600);
}

TEST_CASE("mistakes in checks are refused with their place") {
    CHECK(error_of("checks:\n  - {id: a, type: disk_usage, path: /, treshold: 3}\n") ==
          "agent.yaml:2:40: unknown key 'treshold' in 'checks[0]' (expected one "
          "of: critical, "
          "id, interval, path, severity, timeout, type, warning)");
    CHECK(error_of("checks:\n  - {id: a, type: disk_usage, path: /}\n"
                   "  - {id: a, type: swap_used}\n") ==
          "agent.yaml:3:10: 'checks[1].id': duplicate check id 'a'");
    CHECK(error_of("checks:\n  - {id: a, path: /}\n") ==
          "agent.yaml:2:5: missing required key 'type' in 'checks[0]'");
    CHECK(error_of("checks:\n  - {id: a, type: disk}\n")
              .starts_with("agent.yaml:2:19: 'checks[0].type': unknown check "
                           "type 'disk' (expected one of: "
                           "disk_usage, inode_usage,"));
    CHECK(error_of("checks:\n  - {id: 'a b', type: swap_used}\n") ==
          "agent.yaml:2:10: 'checks[0].id': a check id may contain only letters, "
          "digits and _ . "
          ": - (got 'a b')");
    CHECK(error_of("checks:\n  - {id: a, type: disk_usage, path: /, warning: 95, "
                   "critical: 90}\n") ==
          "agent.yaml:2:63: 'checks[0].critical': warning (95) cannot be above "
          "critical (90)");
    CHECK(error_of("checks:\n  - {id: a, type: disk_usage, path: /, warning: 101}\n") ==
          "agent.yaml:2:49: 'checks[0].warning': expected a number from 0 to 100, "
          "got '101'");
    CHECK(error_of("checks:\n  - {id: a, type: disk_usage, path: relative}\n") ==
          "agent.yaml:2:37: 'checks[0].path': must be an absolute path");
    CHECK(error_of("checks:\n  - {id: a, type: memory_available, warning: 5, "
                   "critical: 10}\n") ==
          "agent.yaml:2:59: 'checks[0].critical': warning (5) cannot be below "
          "critical (10) "
          "when lower is worse");
    CHECK(error_of("checks:\n  - {id: a, type: swap_used, severity: urgent}\n") ==
          "agent.yaml:2:40: 'checks[0].severity': expected one of high, medium, "
          "low, got "
          "'urgent'");
    CHECK(error_of("checks:\n  - {id: a, type: swap_used, timeout: 10ms}\n") ==
          "agent.yaml:2:39: 'checks[0].timeout': 10ms is out of range (expected "
          "100ms to 1h)");
}

TEST_CASE("the checks list itself must be a list of mappings") {
    CHECK(error_of("checks: {id: a}\n") ==
          "agent.yaml:1:9: 'checks': expected a list of mappings, got a mapping");
    CHECK(error_of("checks:\n  - disk_usage\n") ==
          "agent.yaml:2:5: 'checks[0]': expected a mapping, got 'disk_usage'");
    CHECK(config_of("checks:\n").checks.empty());
}

TEST_CASE("type-specific mistakes") {
    CHECK(error_of("checks:\n  - {id: p, type: process}\n") ==
          "agent.yaml:2:5: 'checks[0].name': set exactly one of name, "
          "command_line or "
          "command_regex");
    CHECK(error_of("checks:\n  - {id: p, type: process, name: a, command_line: b}\n") ==
          "agent.yaml:2:51: 'checks[0].command_line': set exactly one of name, "
          "command_line "
          "or command_regex");
    CHECK(error_of("checks:\n  - {id: p, type: process, name: "
                   "a-very-long-process-name}\n")
              .find("use command_line for a longer one") != std::string::npos);
    CHECK(error_of("checks:\n  - {id: p, type: process, command_regex: '(unclosed'}\n")
              .starts_with("agent.yaml:2:43: 'checks[0].command_regex': not a valid regular "
                           "expression"));
    CHECK(error_of("checks:\n  - {id: p, type: process, name: nginx, min: 3, "
                   "max: 2}\n") ==
          "agent.yaml:2:54: 'checks[0].max': max (2) cannot be below min (3)");
    CHECK(error_of("checks:\n  - {id: c, type: command, argv: [check_disk]}\n") ==
          "agent.yaml:2:34: 'checks[0].argv': the program, argv[0], must be an "
          "absolute path "
          "(no shell, no PATH search)");
    CHECK(error_of("checks:\n  - {id: c, type: command}\n") ==
          "agent.yaml:2:5: 'checks[0].argv': a command needs argv: the program "
          "(an absolute "
          "path) and its arguments");
    CHECK(error_of("checks:\n  - {id: t, type: tcp_connect, host: x, port: 70000}\n") ==
          "agent.yaml:2:47: 'checks[0].port': 70000 is out of range (expected 1 to "
          "65535)");
    CHECK(error_of("checks:\n  - {id: t, type: tcp_connect, port: 80}\n") ==
          "agent.yaml:2:5: missing required key 'host' in 'checks[0]'");
    CHECK(error_of("checks:\n  - {id: h, type: http, url: 'ftp://x/'}\n") ==
          "agent.yaml:2:30: 'checks[0].url': the URL must start with http:// or "
          "https://");
    CHECK(error_of("checks:\n  - {id: h, type: http, url: 'http://x/', ca_file: "
                   "/ca.pem}\n") ==
          "agent.yaml:2:52: 'checks[0].ca_file': a CA "
          "file only applies to an https:// URL");
    CHECK(error_of("checks:\n  - {id: x, type: certificate_expiry, file: /a.pem, "
                   "host: h}\n") ==
          "agent.yaml:2:45: 'checks[0].file': set either file, or host and port");
    CHECK(error_of("checks:\n  - {id: x, type: certificate_expiry, file: /a.pem, "
                   "warning: 1d}\n") ==
          "agent.yaml:2:62: 'checks[0].warning': warning (1 d) cannot be less "
          "than critical "
          "(7 d)");
    CHECK(error_of("checks:\n  - {id: f, type: file_age, path: /x}\n") ==
          "agent.yaml:2:5: missing required key 'critical' in 'checks[0]'");
    CHECK(error_of("checks:\n  - {id: f, type: file_age, path: /x, warning: 2h, "
                   "critical: 1h}\n") ==
          "agent.yaml:2:48: 'checks[0].warning': warning (2 h) cannot be longer "
          "than critical "
          "(1 h)");
    CHECK(error_of("checks:\n  - {id: s, type: systemd_unit, unit: 'a b'}\n") ==
          "agent.yaml:2:39: 'checks[0].unit': expected a unit name such as "
          "nginx.service");
}
