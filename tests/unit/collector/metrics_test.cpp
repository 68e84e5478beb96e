// The Prometheus text format, parsed back line by line, and the CMDB gauges on a real file.
#include "collector/metrics.h"
#include "collector/sqlite_store.h"
#include "common/sqlite.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace {

using namespace muster::collector;

struct sample {
    std::string name;
    std::map<std::string, std::string> labels;
    std::string value;
};

// A strict reader of the exposition format (the subset we emit): HELP and TYPE comments and
// samples `name{label="value",...} value`, label values unescaped.
struct exposition {
    std::map<std::string, std::string> help;
    std::map<std::string, std::string> type;
    std::vector<sample> samples;
    std::vector<std::string> comments;

    // The value of the one sample with this name and exactly these labels.
    std::string value(const std::string& name,
                      const std::map<std::string, std::string>& labels = {}) const {
        std::string found;
        int matches = 0;
        for (const auto& s : samples) {
            if (s.name == name && s.labels == labels) {
                found = s.value;
                ++matches;
            }
        }
        if (matches != 1)
            throw std::runtime_error(name + ": " + std::to_string(matches) + " samples");
        return found;
    }
};

std::string unescape(std::string_view text, bool label) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            if (label && text[i] == '"') throw std::runtime_error("unescaped quote");
            out += text[i];
            continue;
        }
        if (++i == text.size()) throw std::runtime_error("dangling backslash");
        char c = text[i];
        if (c == 'n')
            out += '\n';
        else if (c == '\\')
            out += '\\';
        else if (label && c == '"')
            out += '"';
        else
            throw std::runtime_error(std::string("bad escape \\") + c);
    }
    return out;
}

sample parse_sample(const std::string& line) {
    sample s;
    std::size_t i = line.find_first_of("{ ");
    REQUIRE(i != std::string::npos);
    s.name = line.substr(0, i);
    if (line[i] == '{') {
        ++i;
        while (line[i] != '}') {
            auto eq = line.find("=\"", i);
            REQUIRE(eq != std::string::npos);
            std::string name = line.substr(i, eq - i);
            std::size_t j = eq + 2;
            while (j < line.size() && !(line[j] == '"' && line[j - 1] != '\\')) {
                if (line[j] == '\\') ++j;  // skip the escaped character
                ++j;
            }
            REQUIRE(j < line.size());
            s.labels[name] = unescape(std::string_view(line).substr(eq + 2, j - eq - 2), true);
            i = j + 1;
            if (line[i] == ',') ++i;
        }
        ++i;
    }
    REQUIRE(line[i] == ' ');
    s.value = line.substr(i + 1);
    REQUIRE(s.value.find(' ') == std::string::npos);
    return s;
}

exposition parse(const std::string& text) {
    REQUIRE(!text.empty());
    REQUIRE(text.back() == '\n');
    exposition out;
    std::istringstream lines(text);
    std::string line;
    std::string current;  // the family the last TYPE announced
    while (std::getline(lines, line)) {
        REQUIRE(!line.empty());
        if (line.rfind("# HELP ", 0) == 0) {
            auto space = line.find(' ', 7);
            out.help[line.substr(7, space - 7)] = unescape(line.substr(space + 1), false);
        } else if (line.rfind("# TYPE ", 0) == 0) {
            auto space = line.find(' ', 7);
            current = line.substr(7, space - 7);
            REQUIRE(out.help.count(current) == 1);  // HELP comes first
            out.type[current] = line.substr(space + 1);
        } else if (line[0] == '#') {
            out.comments.push_back(line);
        } else {
            auto s = parse_sample(line);
            // Every sample belongs to the family announced last (histogram suffixes allowed).
            bool belongs = s.name == current || s.name == current + "_bucket" ||
                           s.name == current + "_sum" || s.name == current + "_count";
            INFO(line);
            CHECK(belongs);
            out.samples.push_back(std::move(s));
        }
    }
    return out;
}

}  // namespace

TEST_CASE("counters render HELP, TYPE and one sample per label set, escaped") {
    metrics_registry registry;
    auto& plain =
        registry.add_counter("requests_total", "Requests, all of them.\nSecond line \\ x");
    auto& by = registry.add_counter("refused_total", "Refused.", {"reason", "route"});
    plain.inc();
    plain.inc({}, 2.5);
    plain.inc({}, -10);           // counters never go down
    plain.inc({"surplus"}, 100);  // wrong label count: ignored
    by.inc({"bad \"sig\"", "a\\b"});
    by.inc({"line\nbreak", "r"}, 3);
    by.inc({"bad \"sig\"", "a\\b"});

    std::string text = registry.render();
    auto parsed = parse(text);
    CHECK(parsed.type.at("requests_total") == "counter");
    CHECK(parsed.help.at("requests_total") == "Requests, all of them.\nSecond line \\ x");
    CHECK(parsed.value("requests_total") == "3.5");
    CHECK(parsed.value("refused_total", {{"reason", "bad \"sig\""}, {"route", "a\\b"}}) == "2");
    CHECK(parsed.value("refused_total", {{"reason", "line\nbreak"}, {"route", "r"}}) == "3");
    CHECK(parsed.samples.size() == 3);
    CHECK(by.value({"line\nbreak", "r"}) == 3);
    // The escapes as they appear on the wire.
    CHECK_THAT(text, Catch::Contains(
                         "# HELP requests_total Requests, all of them.\\nSecond line \\\\ x\n"));
    CHECK_THAT(text,
               Catch::Contains("refused_total{reason=\"bad \\\"sig\\\"\",route=\"a\\\\b\"} 2\n"));
    CHECK_THAT(text, Catch::Contains("reason=\"line\\nbreak\""));
}

TEST_CASE("a counter without labels shows 0 before its first increment, one with labels nothing") {
    metrics_registry registry;
    registry.add_counter("a_total", "A.");
    registry.add_counter("b_total", "B.", {"reason"});
    auto parsed = parse(registry.render());
    CHECK(parsed.value("a_total") == "0");
    CHECK(parsed.type.at("b_total") == "counter");
    CHECK(parsed.samples.size() == 1);
}

TEST_CASE("histograms have cumulative buckets ending in +Inf, a sum and a count") {
    metrics_registry registry;
    auto& latency = registry.add_histogram("ingest_seconds", "Latency.", {0.005, 0.1, 1});
    for (double v : {0.001, 0.005, 0.05, 0.2, 3.0, 7.0}) latency.observe(v);
    auto parsed = parse(registry.render());
    CHECK(parsed.type.at("ingest_seconds") == "histogram");
    CHECK(parsed.value("ingest_seconds_bucket", {{"le", "0.005"}}) == "2");  // le is inclusive
    CHECK(parsed.value("ingest_seconds_bucket", {{"le", "0.1"}}) == "3");
    CHECK(parsed.value("ingest_seconds_bucket", {{"le", "1"}}) == "4");
    CHECK(parsed.value("ingest_seconds_bucket", {{"le", "+Inf"}}) == "6");
    CHECK(parsed.value("ingest_seconds_count") == "6");
    CHECK(std::stod(parsed.value("ingest_seconds_sum")) == Approx(10.256));
    CHECK_THROWS_AS(registry.add_histogram("h2", "x", {1, 1}), std::invalid_argument);
}

TEST_CASE("gauges are filled by their callback at each scrape, a failing one is skipped") {
    metrics_registry registry;
    double level = 1;
    registry.add_gauge("level", "Level.", {"kind"}, [&] {
        return std::vector<gauge_sample>{{{"x"}, level}, {{"y"}, level * 2}};
    });
    registry.add_gauge("broken", "Broken.", {}, []() -> std::vector<gauge_sample> {
        throw std::runtime_error("no database");
    });
    registry.add_counter("after_total", "After.");
    CHECK(parse(registry.render()).value("level", {{"kind", "y"}}) == "2");
    level = 21.25;
    auto parsed = parse(registry.render());
    CHECK(parsed.value("level", {{"kind", "x"}}) == "21.25");
    CHECK(parsed.value("level", {{"kind", "y"}}) == "42.5");
    CHECK(parsed.comments == std::vector<std::string>{"# muster: broken unavailable"});
    CHECK(parsed.value("after_total") == "0");  // families after a failing one still render
}

TEST_CASE(
    "values: integers plainly, fractions shortest, infinities and NaN as Prometheus spells them") {
    CHECK(format_value(0) == "0");
    CHECK(format_value(-3) == "-3");
    CHECK(format_value(123456789012) == "123456789012");
    CHECK(format_value(0.1) == "0.1");
    CHECK(format_value(2.5e-7) == "2.5e-07");
    CHECK(format_value(INFINITY) == "+Inf");
    CHECK(format_value(-INFINITY) == "-Inf");
    CHECK(format_value(NAN) == "NaN");
}

TEST_CASE("invalid or duplicate names are refused at registration") {
    metrics_registry registry;
    registry.add_counter("ok_total", "x");
    CHECK_THROWS_AS(registry.add_counter("ok_total", "x"), std::invalid_argument);
    CHECK_THROWS_AS(registry.add_counter("9lives", "x"), std::invalid_argument);
    CHECK_THROWS_AS(registry.add_counter("has-dash", "x"), std::invalid_argument);
    CHECK_THROWS_AS(registry.add_counter("c_total", "x", {"__reserved"}), std::invalid_argument);
    CHECK_THROWS_AS(registry.add_counter("d_total", "x", {"bad:label"}), std::invalid_argument);
}

TEST_CASE("counters are exact under concurrent increments") {
    metrics_registry registry;
    auto& counter = registry.add_counter("hits_total", "Hits.", {"who"});
    auto& latency = registry.add_histogram("lat", "Lat.", {1});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10000; ++i) {
                counter.inc({t % 2 ? "odd" : "even"});
                latency.observe(0.5);
                if (i % 1000 == 0) (void)registry.render();
            }
        });
    }
    for (auto& thread : threads) thread.join();
    auto parsed = parse(registry.render());
    CHECK(parsed.value("hits_total", {{"who", "odd"}}) == "20000");
    CHECK(parsed.value("hits_total", {{"who", "even"}}) == "20000");
    CHECK(parsed.value("lat_count") == "40000");
}

TEST_CASE("the collector's metrics, with gauges read from a real CMDB") {
    muster::test::temp_dir dir;
    auto file = std::filesystem::path(dir.path()) / "cmdb.sqlite";
    auto store = open_sqlite_store(file);
    {
        muster::sqlite_database db(file);
        db.exec(
            "INSERT INTO cis (hostname, state, first_seen, last_seen, matched_rule) VALUES "
            "('a', 'active', 1, 1, 'x'), ('b', 'active', 1, 1, 'x'), ('c', 'stale', 1, 1, 'x')");
        // Open means new or acknowledged; resolved ones do not count.
        db.exec(
            "INSERT INTO incidents (ci_id, check_id, check_type, title, state, priority, impact, "
            "urgency, status, opened_at, updated_at, last_seen, response_due, resolution_due) "
            "VALUES (1, 'disk', 'disk_usage', 't', 'new', 2, 'high', 'high', 'critical', 1, 1, "
            "1, 1, 1), (2, 'disk', 'disk_usage', 't', 'acknowledged', 2, 'high', 'high', "
            "'critical', 1, 1, 1, 1, 1), (1, 'mem', 'memory', 't', 'resolved', 1, 'high', "
            "'high', 'ok', 1, 1, 1, 1, 1), (3, 'mem', 'memory', 't', 'new', 4, 'low', 'low', "
            "'warning', 1, 1, 1, 1, 1)");
        // Pending: row 1 untried, row 2 being retried for one webhook and delivered to the
        // other, row 3 delivered, row 4 given up.
        db.exec(
            "INSERT INTO notification_outbox (id, incident_id, event, dedup_key, payload, "
            "created_at) VALUES (1, 1, 'trigger', 'k', '{}', 1), (2, 1, 'trigger', 'k', '{}', 1),"
            " (3, 1, 'trigger', 'k', '{}', 1), (4, 1, 'trigger', 'k', '{}', 1)");
        db.exec(
            "INSERT INTO notification_deliveries (outbox_id, webhook, attempts, next_attempt_at, "
            "delivered_at, failed_at) VALUES (2, 'pd', 1, 5, NULL, NULL), (2, 'slack', 1, 5, 3, "
            "NULL), (3, 'pd', 1, 5, 3, NULL), (4, 'pd', 9, 5, NULL, 4)");
    }
    collector_metrics metrics([&] { return read_cmdb_gauges(file); });
    metrics.report_received();
    metrics.report_received();
    metrics.report_refused("replay");
    metrics.ingest_latency(0.02);

    auto parsed = parse(metrics.render());
    CHECK(parsed.value("muster_reports_received_total") == "2");
    CHECK(parsed.value("muster_reports_refused_total", {{"reason", "replay"}}) == "1");
    CHECK(parsed.value("muster_ingest_seconds_count") == "1");
    CHECK(parsed.value("muster_ingest_seconds_bucket", {{"le", "0.025"}}) == "1");
    CHECK(parsed.value("muster_ingest_seconds_bucket", {{"le", "0.01"}}) == "0");
    CHECK(parsed.value("muster_hosts", {{"state", "active"}}) == "2");
    CHECK(parsed.value("muster_hosts", {{"state", "stale"}}) == "1");
    CHECK(parsed.value("muster_hosts", {{"state", "retired"}}) == "0");
    CHECK(parsed.value("muster_incidents_open", {{"priority", "P1"}}) == "0");
    CHECK(parsed.value("muster_incidents_open", {{"priority", "P2"}}) == "2");
    CHECK(parsed.value("muster_incidents_open", {{"priority", "P3"}}) == "0");
    CHECK(parsed.value("muster_incidents_open", {{"priority", "P4"}}) == "1");
    CHECK(parsed.value("muster_notifications_pending") == "2");
    for (auto name : {"muster_hosts", "muster_incidents_open", "muster_notifications_pending"})
        CHECK(parsed.type.at(name) == "gauge");

    // The CMDB gone: gauges say so, counters still answer.
    collector_metrics broken([&] { return read_cmdb_gauges(file.string() + ".missing"); });
    auto degraded = parse(broken.render());
    CHECK(degraded.comments.size() == 3);
    CHECK(degraded.value("muster_reports_received_total") == "0");
}
