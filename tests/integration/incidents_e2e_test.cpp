// Health checks to incidents to webhooks, end to end with the real processes: `muster-agent
// once` runs the checks and reports, the real collector opens and resolves incidents, and a
// webhook receiver run by the test gets the notifications.
#include "common/sqlite.h"
#include "support/installation.h"
#include "support/webhook_receiver.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <thread>

using muster::test::installation;
using muster::test::webhook_receiver;

namespace {

struct incident_row {
    std::int64_t id = 0;
    std::string state;
    bool flapping = false;
    bool held = false;
};

std::optional<incident_row> latest_incident(const installation& inst, const std::string& check) {
    auto db = inst.cmdb();
    auto q = db.prepare(
        "SELECT id, state, flapping, notifications_held FROM incidents WHERE check_id = ? "
        "ORDER BY id DESC LIMIT 1");
    q.bind(1, check);
    if (!q.step()) return std::nullopt;
    return incident_row{q.column_int64(0), q.column_text(1), q.column_int64(2) != 0,
                        q.column_int64(3) != 0};
}

std::int64_t count_rows(const installation& inst, const std::string& sql) {
    auto db = inst.cmdb();
    auto q = db.prepare(sql);
    REQUIRE(q.step());
    return q.column_int64(0);
}

// Polls until predicate() holds; false after timeout.
template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::seconds timeout = std::chrono::seconds(40)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (predicate()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return predicate();
}

void agent_reports(const installation& inst) {
    auto [code, log] = inst.agent_once();
    INFO(log);
    REQUIRE(code == 0);
}

boost::json::object body_of(const muster::test::received_request& request) {
    return boost::json::parse(request.body).as_object();
}

std::string webhooks_yaml(const webhook_receiver& receiver) {
    return "notifications:\n"
           "  webhooks:\n"
           "    - name: pager\n"
           "      format: pagerduty\n"
           "      url: " +
           receiver.url("/pagerduty") +
           "\n"
           "      routing_key: test-routing-key-0001\n"
           "  retry:\n"
           "    initial: 300ms\n"
           "    max: 1s\n"
           "  poll_interval: 200ms\n";
}

std::string disk_check_yaml(const std::string& warning, const std::string& critical) {
    return "checks:\n"
           "  - id: root-disk\n"
           "    type: disk_usage\n"
           "    path: /\n"
           "    warning: " +
           warning +
           "\n"
           "    critical: " +
           critical +
           "\n"
           "    severity: high\n";
}

}  // namespace

TEST_CASE(
    "a disk check over its threshold opens an incident and passing resolves it, with "
    "PagerDuty trigger then resolve under one dedup key") {
    installation inst;
    webhook_receiver receiver;
    inst.append("collector.yaml",
                webhooks_yaml(receiver) + "incidents:\n  open_after: 2\n  resolve_after: 2\n");
    // Any root filesystem is at least 0.01% used: this threshold is exceeded everywhere.
    inst.append("agent.yaml", disk_check_yaml("0.001", "0.01"));
    auto collector = inst.start_collector();

    agent_reports(inst);
    CHECK_FALSE(latest_incident(inst, "root-disk"));  // one failure is not enough
    agent_reports(inst);
    auto opened = latest_incident(inst, "root-disk");
    REQUIRE(opened);
    CHECK(opened->state == "new");

    REQUIRE(receiver.wait_for(1));
    auto trigger = body_of(receiver.requests().at(0));
    CHECK(trigger.at("event_action") == "trigger");
    CHECK(trigger.at("routing_key") == "test-routing-key-0001");
    auto dedup_key = trigger.at("dedup_key").as_string();
    CHECK(!dedup_key.empty());

    // A third failure updates the same incident; it opens no other.
    agent_reports(inst);
    CHECK(count_rows(inst, "SELECT count(*) FROM incidents WHERE check_id = 'root-disk'") == 1);

    // Thresholds the machine passes: resolved after resolve_after ok results, not before.
    inst.replace_tail("agent.yaml", "checks", disk_check_yaml("100", "100"));
    agent_reports(inst);
    CHECK(latest_incident(inst, "root-disk")->state == "new");
    agent_reports(inst);
    CHECK(latest_incident(inst, "root-disk")->state == "resolved");

    REQUIRE(receiver.wait_for(2));
    auto requests = receiver.requests();
    auto resolve = body_of(requests.back());
    CHECK(resolve.at("event_action") == "resolve");
    CHECK(resolve.at("dedup_key") == dedup_key);
    CHECK(requests.size() == 2);  // the update sent nothing
}

TEST_CASE("a flapping check holds its notifications") {
    installation inst;
    webhook_receiver receiver;
    inst.append("collector.yaml",
                webhooks_yaml(receiver) +
                    "incidents:\n  open_after: 1\n  resolve_after: 1\n"
                    "  flapping:\n    changes: 3\n    window: 1h\n    quiet: 1h\n");
    auto exit_file = inst.path("exit-code");
    REQUIRE(muster::write_file_atomic(exit_file, "2"));
    inst.append("agent.yaml",
                "checks:\n"
                "  - id: toggle\n"
                "    type: command\n"
                "    argv: [/bin/sh, -c, \"exit $(cat " +
                    exit_file + ")\"]\n");
    auto collector = inst.start_collector();

    // Eight results alternating critical and ok: seven state changes. Without the hold that
    // is four triggers and four resolves.
    for (int round = 0; round < 8; ++round) {
        REQUIRE(muster::write_file_atomic(exit_file, round % 2 == 0 ? "2" : "0"));
        agent_reports(inst);
    }
    auto incident = latest_incident(inst, "toggle");
    REQUIRE(incident);
    CHECK(incident->flapping);
    CHECK(incident->held);
    CHECK(count_rows(inst, "SELECT count(*) FROM incidents") == 1);  // reopened, not new ones

    auto enqueued = count_rows(inst, "SELECT count(*) FROM notification_outbox");
    CHECK(enqueued >= 1);
    CHECK(enqueued < 8);
    REQUIRE(receiver.wait_for(static_cast<std::size_t>(enqueued)));
    std::this_thread::sleep_for(std::chrono::seconds(2));  // nothing more may arrive
    CHECK(receiver.requests().size() == static_cast<std::size_t>(enqueued));
}

TEST_CASE("a silent host gets a host-not-reporting incident, resolved when it reports again") {
    installation inst;
    inst.append("collector.yaml",
                "maintenance:\n  interval: 200ms\n"
                "incidents:\n  silent_after_intervals: 2\n");
    inst.append("agent.yaml", "inventory:\n  interval: 1s\n  splay: 0s\n");
    auto collector = inst.start_collector();

    agent_reports(inst);
    REQUIRE(eventually([&] { return latest_incident(inst, "host_not_reporting").has_value(); }));
    CHECK(latest_incident(inst, "host_not_reporting")->state == "new");
    // Silence opens one incident, however many sweeps see it.
    std::this_thread::sleep_for(std::chrono::seconds(1));
    CHECK(count_rows(inst, "SELECT count(*) FROM incidents") == 1);

    agent_reports(inst);
    CHECK(latest_incident(inst, "host_not_reporting")->state == "resolved");
}

TEST_CASE("a notification pending when the collector is killed is delivered after restart") {
    installation inst;
    webhook_receiver receiver;
    receiver.set_default_status(500);
    inst.append("collector.yaml", webhooks_yaml(receiver) + "incidents:\n  open_after: 1\n");
    inst.append("agent.yaml", disk_check_yaml("0.001", "0.01"));
    auto collector = inst.start_collector();

    agent_reports(inst);
    REQUIRE(receiver.wait_for(1));  // tried once, answered 500: still pending
    collector->signal(SIGKILL);
    collector->wait();
    CHECK(count_rows(inst,
                     "SELECT count(*) FROM notification_deliveries "
                     "WHERE delivered_at IS NOT NULL") == 0);

    receiver.set_default_status(200);
    auto attempts_before = receiver.requests().size();
    collector = inst.start_collector();
    REQUIRE(eventually([&] {
        for (const auto& r : receiver.requests())
            if (r.answered == 200) return true;
        return false;
    }));
    auto requests = receiver.requests();
    CHECK(requests.size() > attempts_before);
    CHECK(body_of(requests.back()).at("event_action") == "trigger");
    REQUIRE(eventually([&] {
        return count_rows(inst,
                          "SELECT count(*) FROM notification_deliveries "
                          "WHERE delivered_at IS NOT NULL") == 1;
    }));
}

// The collector's clock is moved with libfaketime (Debian's faketime package), which the
// collector reads through time(); its timers keep the real monotonic clock.
TEST_CASE("SLA breach flags and KPI figures follow the collector's clock") {
    const std::string libfaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
    REQUIRE(std::filesystem::exists(libfaketime));
    installation inst;
    // The jumps of the clock must not make the host look silent (a second incident).
    inst.append("collector.yaml",
                "maintenance:\n  interval: 200ms\n"
                "incidents:\n  open_after: 1\n  resolve_after: 1\n"
                "  silent_after_intervals: 1000\n");
    inst.append("agent.yaml", disk_check_yaml("0.001", "0.01"));
    auto offset_file = inst.path("clock-offset");
    REQUIRE(muster::write_file_atomic(offset_file, "+0\n"));
    auto collector = std::make_unique<muster::test::background_process>(
        std::vector<std::string>{"/usr/bin/env", "LD_PRELOAD=" + libfaketime,
                                 "FAKETIME_TIMESTAMP_FILE=" + offset_file, "FAKETIME_NO_CACHE=1",
                                 "DONT_FAKE_MONOTONIC=1", MUSTER_COLLECTOR_BIN, "serve", "--config",
                                 inst.c("collector.yaml")},
        inst.path("collector.log"));
    REQUIRE(muster::test::wait_for_port(inst.port));

    // No service: impact medium; the check's severity high: urgency high. P2: respond within
    // 1 h, resolve within 8 h.
    agent_reports(inst);
    auto incident = latest_incident(inst, "root-disk");
    REQUIRE(incident);
    auto id = std::to_string(incident->id);
    auto breached = [&](const std::string& column) {
        return count_rows(inst, "SELECT " + column + " FROM incidents WHERE id = " + id) == 1;
    };
    CHECK(count_rows(inst, "SELECT priority FROM incidents WHERE id = " + id) == 2);
    CHECK_FALSE(breached("response_breached"));

    // Two hours later: the response target is missed, the resolution target not yet.
    REQUIRE(muster::write_file_atomic(offset_file, "+2h\n"));
    REQUIRE(eventually([&] { return breached("response_breached"); }));
    CHECK_FALSE(breached("resolution_breached"));

    auto ctl = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {MUSTER_CTL_BIN, "--config", inst.c("ctl.yaml")});
        auto r = muster::test::run(args);
        INFO(r.out << r.err);
        REQUIRE(r.exit_code == 0);
        return r.out;
    };
    ctl({"incident", "ack", id});

    // Three hours after opening, the check passes and resolves it.
    REQUIRE(muster::write_file_atomic(offset_file, "+3h\n"));
    inst.replace_tail("agent.yaml", "checks", disk_check_yaml("100", "100"));
    agent_reports(inst);
    REQUIRE(latest_incident(inst, "root-disk")->state == "resolved");

    auto report = boost::json::parse(ctl({"--format", "json", "report", "sla", "--since", "1d"}));
    const boost::json::object* p2 = nullptr;
    for (const auto& row : report.at("by_priority").as_array())
        if (row.at("priority") == "P2") p2 = &row.as_object();
    REQUIRE(p2);
    INFO(boost::json::serialize(*p2));
    CHECK(p2->at("incidents").to_number<int>() == 1);
    // Times are the collector's (faked) clock: acknowledged 2 h and resolved 3 h after
    // opening, give or take the seconds the test itself took.
    auto near = [](const boost::json::value& v, double expected) {
        return std::abs(v.to_number<double>() - expected) < 120;
    };
    CHECK(near(p2->at("mtta_seconds"), 7200));
    CHECK(near(p2->at("mttr_seconds"), 10800));
    CHECK(p2->at("breached").to_number<int>() == 1);
    CHECK(p2->at("compliance").to_number<double>() == 0.0);
}

TEST_CASE("a Nagios plugin run by the agent opens an incident with its status and message") {
    const std::string plugin = "/usr/lib/nagios/plugins/check_disk";
    REQUIRE(std::filesystem::exists(plugin));  // installers/deps-debian.sh installs it
    installation inst;
    inst.append("collector.yaml", "incidents:\n  open_after: 1\n");
    // 100% free space required: check_disk exits 2, critical, on any real filesystem.
    inst.append("agent.yaml",
                "checks:\n"
                "  - id: plugin-disk\n"
                "    type: command\n"
                "    argv: [" +
                    plugin + ", -w, '100%', -c, '100%', -p, /]\n");
    auto collector = inst.start_collector();
    agent_reports(inst);

    auto db = inst.cmdb();
    auto q = db.prepare(
        "SELECT check_type, status, message FROM incidents WHERE check_id = 'plugin-disk'");
    REQUIRE(q.step());
    CHECK(q.column_text(0) == "command");
    CHECK(q.column_text(1) == "critical");
    CHECK(q.column_text(2).starts_with("DISK CRITICAL"));
}
