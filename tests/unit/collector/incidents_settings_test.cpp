// The `services:` and `incidents:` keys of collector.yaml (collector/incidents/settings.h):
// the documented example, the defaults, and one clear error per kind of mistake.
#include "collector/config.h"

#include <catch2/catch.hpp>

#include <string>

namespace {

using namespace muster;
using namespace muster::collector;
using namespace muster::collector::incidents;

std::string minimal(const std::string& extra = "") {
    return "tls: {cert_file: s.pem, key_file: s.key}\ndatabase: cmdb.sqlite\n" + extra;
}

incident_settings read(const std::string& extra) {
    return read_collector_config(load_yaml_string(minimal(extra), "collector.yaml"), "/etc/muster")
        .incidents;
}

std::string error_of(const std::string& extra) {
    try {
        read(extra);
    } catch (const config_error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("config/collector.yaml documents the incident keys with their defaults",
          "[incidents][config]") {
    auto config = load_collector_config(std::string(MUSTER_SOURCE_DIR) + "/config/collector.yaml");
    const auto& settings = config.incidents;
    REQUIRE(settings.services.size() == 2);
    CHECK(settings.services[0].name == "web");
    CHECK(settings.services[0].owner == "alice@example.org");
    CHECK(settings.services[0].criticality == level::high);
    CHECK(settings.services[0].hostnames == std::vector<std::string>{"web-*", "www?.example.org"});
    CHECK(settings.services[0].tags == std::vector<std::string>{"web"});
    CHECK(settings.services[1].name == "databases");
    CHECK(settings.services[1].criticality == level::medium);

    // The example shows the defaults: reading it gives what no file gives.
    incident_settings defaults;
    CHECK(settings.open_after == defaults.open_after);
    CHECK(settings.resolve_after == defaults.resolve_after);
    CHECK(settings.reopen_within == defaults.reopen_within);
    CHECK(settings.flap_changes == defaults.flap_changes);
    CHECK(settings.flap_window == defaults.flap_window);
    CHECK(settings.flap_quiet == defaults.flap_quiet);
    CHECK(settings.silent_after_intervals == defaults.silent_after_intervals);
    CHECK(settings.default_expected_interval == defaults.default_expected_interval);
    CHECK(settings.silent_urgency == defaults.silent_urgency);
    CHECK(settings.problem_incidents == defaults.problem_incidents);
    CHECK(settings.problem_window == defaults.problem_window);
    CHECK(settings.default_impact == defaults.default_impact);
    CHECK(settings.matrix == default_priority_matrix);
    for (std::size_t i = 0; i < settings.sla.size(); ++i) {
        CHECK(settings.sla[i].response == defaults.sla[i].response);
        CHECK(settings.sla[i].resolution == defaults.sla[i].resolution);
    }
}

TEST_CASE("defaults when nothing is configured", "[incidents][config]") {
    auto settings = read("");
    CHECK(settings.services.empty());
    CHECK(settings.open_after == 2);
    CHECK(settings.resolve_after == 2);
    CHECK(settings.reopen_within == 3600);
    CHECK(settings.silent_after_intervals == 3);
    CHECK(settings.default_expected_interval == 3600);
    CHECK(settings.problem_incidents == 3);
    CHECK(settings.problem_window == 7 * 86400);
    CHECK(settings.sla[0].response == 15 * 60);
    CHECK(settings.sla[0].resolution == 4 * 3600);
    CHECK(settings.sla[3].resolution == 5 * 86400);
}

TEST_CASE("configured values are read", "[incidents][config]") {
    auto settings = read(
        "incidents:\n"
        "  open_after: 3\n"
        "  reopen_within: 10m\n"
        "  flapping: {changes: 6, window: 2h, quiet: 45m}\n"
        "  default_expected_interval: 5m\n"
        "  silent_urgency: low\n"
        "  problems: {incidents: 5, window: 1d}\n"
        "  default_impact: low\n"
        "  priority:\n"
        "    low: {low: P3}\n"
        "  sla:\n"
        "    P2: {response: 30m, resolution: 2h}\n");
    CHECK(settings.open_after == 3);
    CHECK(settings.reopen_within == 600);
    CHECK(settings.flap_changes == 6);
    CHECK(settings.flap_window == 7200);
    CHECK(settings.flap_quiet == 2700);
    CHECK(settings.default_expected_interval == 300);
    CHECK(settings.silent_urgency == level::low);
    CHECK(settings.problem_incidents == 5);
    CHECK(settings.problem_window == 86400);
    CHECK(settings.default_impact == level::low);
    CHECK(settings.matrix[2][2] == 3);
    CHECK(settings.matrix[2][1] == 4);  // the rest keeps its default
    CHECK(settings.sla[1].response == 1800);
    CHECK(settings.sla[1].resolution == 7200);
    CHECK(settings.sla[0].response == 900);
}

TEST_CASE("mistakes are errors naming file, line, column and key", "[incidents][config]") {
    CHECK(error_of("incidents:\n  open_afterr: 2\n") ==
          std::string("collector.yaml:4:3: unknown key 'open_afterr' in 'incidents' (expected "
                      "one of: default_expected_interval, default_impact, flapping, open_after, "
                      "priority, problems, reopen_within, resolve_after, silent_after_intervals, "
                      "silent_urgency, sla)"));
    CHECK_THAT(error_of("incidents:\n  priority:\n    high: {high: P5}\n"),
               Catch::StartsWith("collector.yaml:5:18: 'incidents.priority.high.high'"));
    CHECK_THAT(error_of("incidents:\n  open_after: 0\n"),
               Catch::StartsWith("collector.yaml:4:15: 'incidents.open_after'"));
    CHECK_THAT(error_of("incidents:\n  sla:\n    P1: {response: 2h, resolution: 1h}\n"),
               Catch::Contains("'incidents.sla.P1.resolution': must not be shorter than response"));
    CHECK_THAT(error_of("services:\n  - name: web\n    criticality: high\n"),
               Catch::Contains("'services[0].members': a service needs at least one"));
    CHECK_THAT(error_of("services:\n  - name: web\n    members: {tags: [a]}\n  - name: web\n"
                        "    members: {tags: [b]}\n"),
               Catch::Contains("collector.yaml:6:11: 'services[1].name': another service already"));
    CHECK_THAT(error_of("services:\n  - name: web\n    members: {tags: [a], hosts: [x]}\n"),
               Catch::Contains("unknown key 'hosts' in 'services[0].members'"));
    CHECK_THAT(error_of("services:\n  - name: web\n    criticality: urgent\n"
                        "    members: {tags: [a]}\n"),
               Catch::Contains("'services[0].criticality'"));
    CHECK_THAT(error_of("services: {web: {}}\n"),
               Catch::Contains("'services': expected a list of mappings"));
}
