// The incident engine through a real SQLite store (contracts C2, C3): reports carrying check
// results are ingested as an agent sends them, and the incidents, events, problems and
// outbox rows they leave are read back, from the store's interface and from the tables.
#include "collector/incidents/check_result.h"
#include "collector/sqlite_store.h"
#include "common/crypto.h"
#include "common/sqlite.h"
#include "support/process.h"
#include "unit/collector/store_test_support.h"

#include <sqlite3.h>
#include <boost/json.hpp>

#include <catch2/catch.hpp>

#include <set>

namespace {

namespace json = boost::json;
using namespace muster::collector;
using namespace muster::collector::incidents;

constexpr std::int64_t t0 = 1'764'460'800;

json::object result(const std::string& id, const std::string& status, double value = 91.5,
                    const std::string& severity = "medium") {
    return json::object{{"id", id},
                        {"type", "disk_usage"},
                        {"severity", severity},
                        {"status", status},
                        {"message", "/ is " + std::to_string(value) + "% full"},
                        {"value", value},
                        {"unit", "%"},
                        {"checked_at", t0},
                        {"interval", 60},
                        {"duration_ms", 3}};
}

struct outbox_row {
    std::int64_t incident_id;
    std::string event;
    std::string dedup_key;
    json::object payload;
};

struct fixture {
    muster::test::temp_dir dir;
    std::filesystem::path db_file = std::filesystem::path(dir.path()) / "cmdb.sqlite";
    incident_settings settings = make_settings();
    std::unique_ptr<cmdb_store> store = open_sqlite_store(db_file, settings);
    json::object inventory = muster::test::make_inventory({});  // web-1, tag "web", debian
    std::string agent = store->enroll_agent(muster::test::enrollment_for("a"), true, t0).agent_id;
    std::int64_t seq = 0;

    static incident_settings make_settings() {
        incident_settings settings;
        service_definition web;
        web.name = "web";
        web.owner = "alice@example.org";
        web.criticality = level::high;
        web.hostnames = {"web-*"};
        settings.services.push_back(web);
        return settings;
    }

    fixture() {
        auto first = muster::test::full_report(agent, ++seq, inventory);
        REQUIRE(ingest(first, t0).status == ingest_status::ok);
        store->sweep_incidents(t0);  // the collector watches from t0
    }

    verified_report report_with(const json::array& checks,
                                std::optional<std::int64_t> expected_interval = std::nullopt) {
        auto report = muster::test::delta_report(agent, seq + 1, seq, inventory, inventory);
        report.document["checks"] = checks;
        if (expected_interval) report.document["expected_interval"] = *expected_interval;
        report.body_sha256 = muster::sha256_hex(json::serialize(report.document));
        return report;
    }

    ingest_result ingest(const verified_report& report, std::int64_t now) {
        auto results = store->ingest(std::span(&report, 1), now);
        REQUIRE(results.size() == 1);
        return results[0];
    }

    // One report with these results, applied at now; must be acknowledged.
    void send(const json::array& checks, std::int64_t now,
              std::optional<std::int64_t> expected_interval = std::nullopt) {
        auto report = report_with(checks, expected_interval);
        auto outcome = ingest(report, now);
        INFO(outcome.message);
        REQUIRE(outcome.status == ingest_status::ok);
        ++seq;
    }

    void send_status(const std::string& status, std::int64_t now) {
        send(json::array{result("root-disk", status)}, now);
    }

    std::vector<incident_record> all_incidents(std::int64_t now = t0) {
        return store->incidents().list_incidents({}, now);
    }

    std::vector<outbox_row> outbox() {
        muster::sqlite_database db(db_file, muster::sqlite_open::read_only);
        auto select = db.prepare(
            "SELECT incident_id, event, dedup_key, payload FROM notification_outbox ORDER BY id");
        std::vector<outbox_row> rows;
        while (select.step()) {
            rows.push_back({select.column_int64(0), select.column_text(1), select.column_text(2),
                            json::parse(select.column_text(3)).as_object()});
        }
        return rows;
    }

    std::vector<std::string> event_kinds(std::int64_t id) {
        std::vector<std::string> kinds;
        for (const auto& e : store->incidents().incident_events(id)) kinds.push_back(e.kind);
        return kinds;
    }

    std::int64_t find_seq() { return store->find_agent(agent)->last_seq; }

    std::int64_t count(const std::string& sql) {
        muster::sqlite_database db(db_file, muster::sqlite_open::read_only);
        auto select = db.prepare(sql);
        REQUIRE(select.step());
        return select.column_int64(0);
    }
};

std::set<std::string> keys_of(const json::object& object) {
    std::set<std::string> keys;
    for (const auto& member : object) keys.emplace(member.key());
    return keys;
}

}  // namespace

TEST_CASE("schema version 2 has the incident tables and the outbox of contract C3", "[incidents]") {
    fixture f;
    CHECK(f.count("PRAGMA user_version") >= 2);
    for (auto table : {"check_states", "incidents", "incident_events", "problems",
                       "notification_outbox", "notification_deliveries"}) {
        INFO(table);
        CHECK(f.count(std::string("SELECT count(*) FROM sqlite_master WHERE name = '") + table +
                      "'") == 1);
    }
}

TEST_CASE("two failures open an incident, later ones update it, two oks resolve it",
          "[incidents]") {
    fixture f;
    f.send_status("warning", t0 + 60);
    CHECK(f.all_incidents().empty());
    f.send_status("critical", t0 + 120);
    auto opened = f.all_incidents();
    REQUIRE(opened.size() == 1);
    const auto& incident = opened[0];
    CHECK(incident.host == "web-1");
    CHECK(incident.check_id == "root-disk");
    CHECK(incident.check_type == "disk_usage");
    CHECK(incident.title == "web-1: root-disk critical");
    CHECK(incident.state == "new");
    CHECK(incident.priority == 2);  // impact high (service web) x urgency medium
    CHECK(incident.impact == "high");
    CHECK(incident.urgency == "medium");
    CHECK(incident.service == "web");
    CHECK(incident.owner == "alice@example.org");
    CHECK(incident.count == 1);
    CHECK(incident.opened_at == t0 + 120);
    CHECK(incident.response_due == t0 + 120 + 3600);
    CHECK(incident.resolution_due == t0 + 120 + 8 * 3600);
    REQUIRE(incident.value);
    CHECK(*incident.value == Approx(91.5));

    auto rows = f.outbox();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].event == "trigger");
    CHECK(rows[0].dedup_key == "muster-incident-" + std::to_string(incident.id));
    CHECK(keys_of(rows[0].payload) == std::set<std::string>{"event", "incident"});
    const auto& payload = rows[0].payload.at("incident").as_object();
    CHECK(keys_of(payload) ==
          std::set<std::string>{
              "id",          "title",        "host",           "ci_id",   "check",     "check_type",
              "state",       "priority",     "impact",         "urgency", "status",    "message",
              "value",       "unit",         "service",        "owner",   "opened_at", "updated_at",
              "resolved_at", "response_due", "resolution_due", "count",   "flapping"});
    CHECK(payload.at("priority") == "P2");
    CHECK(payload.at("host") == "web-1");
    CHECK(payload.at("check") == "root-disk");
    CHECK(payload.at("resolved_at").is_null());
    CHECK(payload.at("flapping") == false);

    f.send_status("critical", t0 + 180);
    f.send_status("warning", t0 + 240);
    auto updated = f.all_incidents();
    REQUIRE(updated.size() == 1);
    CHECK(updated[0].count == 3);
    CHECK(updated[0].last_seen == t0 + 240);
    CHECK(updated[0].status == "warning");
    CHECK(f.outbox().size() == 1);  // updates notify nobody

    f.send_status("ok", t0 + 300);
    CHECK(f.all_incidents()[0].state == "new");
    f.send_status("ok", t0 + 360);
    auto resolved = f.all_incidents();
    REQUIRE(resolved.size() == 1);
    CHECK(resolved[0].state == "resolved");
    CHECK(resolved[0].resolved_at == t0 + 360);
    auto events = f.store->incidents().incident_events(incident.id);
    REQUIRE(events.size() == 3);
    CHECK(events[0].kind == "opened");
    CHECK(events[1].kind == "updated");  // critical -> warning
    CHECK(events[2].kind == "resolved");
    CHECK(events[2].actor == "system");
    CHECK(events[2].note == "resolved automatically: 2 consecutive ok results");
    rows = f.outbox();
    REQUIRE(rows.size() == 2);
    CHECK(rows[1].event == "resolve");
    CHECK(rows[1].dedup_key == rows[0].dedup_key);
    CHECK(rows[1].payload.at("incident").at("state") == "resolved");
}

TEST_CASE("several results of one check in one report are applied in order", "[incidents]") {
    fixture f;
    f.send(json::array{result("root-disk", "critical"), result("root-disk", "critical"),
                       result("root-disk", "ok"), result("root-disk", "ok")},
           t0 + 60);
    auto incidents = f.all_incidents();
    REQUIRE(incidents.size() == 1);
    CHECK(incidents[0].state == "resolved");
    CHECK(f.outbox().size() == 2);
}

TEST_CASE("an identical resend is not applied twice", "[incidents]") {
    fixture f;
    f.send_status("critical", t0 + 60);
    auto report = f.report_with(json::array{result("root-disk", "critical")});
    REQUIRE(f.ingest(report, t0 + 120).status == ingest_status::ok);
    REQUIRE(f.ingest(report, t0 + 180).status == ingest_status::ok);  // lost ack, resent
    auto incidents = f.all_incidents();
    REQUIRE(incidents.size() == 1);
    CHECK(incidents[0].count == 1);
    CHECK(f.outbox().size() == 1);
}

TEST_CASE("one open incident per CI and check", "[incidents]") {
    fixture f;
    for (int i = 1; i <= 6; ++i) f.send_status("critical", t0 + 60 * i);
    CHECK(f.count("SELECT count(*) FROM incidents") == 1);
    muster::sqlite_database db(f.db_file);
    auto incident = f.all_incidents()[0];
    std::string insert =
        "INSERT INTO incidents (ci_id, check_id, check_type, title, state, priority, impact, "
        "urgency, status, opened_at, updated_at, last_seen, response_due, resolution_due) "
        "VALUES (" +
        std::to_string(incident.ci_id) +
        ", 'root-disk', 'disk_usage', 't', 'acknowledged', 1, 'high', 'high', 'critical', 0, 0, "
        "0, 0, 0)";
    try {
        db.exec(insert);
        FAIL("a second open incident was accepted");
    } catch (const muster::sqlite_error& error) {
        CHECK(error.extended_code() == SQLITE_CONSTRAINT_UNIQUE);
    }
    // Another check on the same CI is another incident.
    f.send(json::array{result("var-disk", "critical"), result("var-disk", "critical")}, t0 + 1000);
    CHECK(f.count("SELECT count(*) FROM incidents WHERE state = 'new'") == 2);
}

TEST_CASE("a failure within the reopen window reopens, later opens a new one", "[incidents]") {
    fixture f;
    for (auto [status, at] :
         {std::pair{"critical", 60}, {"critical", 120}, {"ok", 180}, {"ok", 240}}) {
        f.send_status(status, t0 + at);
    }
    REQUIRE(f.all_incidents()[0].state == "resolved");
    f.send_status("critical", t0 + 240 + 3600);
    auto incidents = f.all_incidents();
    REQUIRE(incidents.size() == 1);
    CHECK(incidents[0].state == "new");
    CHECK(incidents[0].reopened_count == 1);
    CHECK_FALSE(incidents[0].resolved_at);
    CHECK(f.event_kinds(incidents[0].id) ==
          std::vector<std::string>{"opened", "resolved", "reopened"});
    auto rows = f.outbox();
    REQUIRE(rows.size() == 3);
    CHECK(rows[2].event == "trigger");
    CHECK(rows[2].dedup_key == rows[0].dedup_key);

    f.send_status("ok", t0 + 5000);
    f.send_status("ok", t0 + 5060);
    f.send_status("critical", t0 + 5060 + 3601);
    CHECK(f.all_incidents().size() == 1);  // outside the window: counting again
    f.send_status("critical", t0 + 5060 + 3661);
    CHECK(f.all_incidents().size() == 2);
}

TEST_CASE("a flapping check holds notifications and releases them when quiet", "[incidents]") {
    fixture f;
    f.settings.flap_changes = 4;  // the store keeps its own copy: reopen it with these
    f.settings.flap_window = 3600;
    f.settings.flap_quiet = 600;
    f.store = open_sqlite_store(f.db_file, f.settings);
    f.send_status("critical", t0 + 60);
    f.send_status("critical", t0 + 120);  // opens: trigger
    REQUIRE(f.outbox().size() == 1);
    // ok, ok (resolve), critical (reopen), ok, critical: the fourth change makes it flap
    std::int64_t at = t0 + 120;
    for (auto status : {"ok", "ok", "critical", "ok", "ok", "critical"}) {
        f.send_status(status, at += 60);
    }
    auto incident = f.all_incidents()[0];
    CHECK(incident.flapping);
    CHECK(incident.notifications_held);
    auto before = f.outbox().size();
    // More changes while flapping: nothing goes out. The last change is the first ok.
    for (auto status : {"ok", "ok", "critical", "ok", "ok"}) f.send_status(status, at += 60);
    auto last_change = at - 60;
    CHECK(f.outbox().size() == before);
    auto held = f.all_incidents()[0];
    CHECK(held.state == "resolved");

    // Not quiet yet.
    f.store->sweep_incidents(last_change + 599);
    CHECK(f.outbox().size() == before);
    // Quiet: the current state (resolved) goes out once.
    f.store->sweep_incidents(last_change + 600);
    auto rows = f.outbox();
    REQUIRE(rows.size() == before + 1);
    CHECK(rows.back().event == "resolve");
    auto released = f.all_incidents()[0];
    CHECK_FALSE(released.flapping);
    CHECK_FALSE(released.notifications_held);
    f.store->sweep_incidents(last_change + 1200);
    CHECK(f.outbox().size() == before + 1);
}

TEST_CASE("a silent host gets a host-not-reporting incident, resolved by its next report",
          "[incidents]") {
    fixture f;
    f.send(json::array{}, t0 + 10, 60);       // the agent reports every 60 s
    f.store->sweep_incidents(t0 + 10 + 180);  // 3 intervals, not more
    CHECK(f.all_incidents().empty());
    f.store->sweep_incidents(t0 + 10 + 181);
    auto incidents = f.all_incidents();
    REQUIRE(incidents.size() == 1);
    CHECK(incidents[0].check_id == std::string(host_not_reporting));
    CHECK(incidents[0].title == "web-1: host not reporting");
    CHECK(incidents[0].urgency == "high");
    CHECK(incidents[0].priority == 1);  // high impact x high urgency
    f.store->sweep_incidents(t0 + 10 + 400);
    CHECK(f.all_incidents().size() == 1);  // still one
    CHECK(f.outbox().size() == 1);

    f.send(json::array{}, t0 + 500, 60);
    auto resolved = f.all_incidents()[0];
    CHECK(resolved.state == "resolved");
    auto events = f.store->incidents().incident_events(resolved.id);
    REQUIRE(events.size() == 2);
    CHECK(events[1].note == "resolved automatically: the host reported again");
    auto rows = f.outbox();
    REQUIRE(rows.size() == 2);
    CHECK(rows[1].event == "resolve");
}

TEST_CASE("without expected_interval the default applies, and retired CIs are left alone",
          "[incidents]") {
    fixture f;  // last report at t0, no expected_interval: 3 x 1 h
    f.store->sweep_incidents(t0 + 3 * 3600);
    CHECK(f.all_incidents().empty());
    SECTION("silent") {
        f.store->sweep_incidents(t0 + 3 * 3600 + 1);
        CHECK(f.all_incidents().size() == 1);
    }
    SECTION("retired") {
        REQUIRE(f.store->update_staleness(t0 + 3 * 3600 + 1, 60, 120) == 1);
        f.store->sweep_incidents(t0 + 3 * 3600 + 1);
        CHECK(f.all_incidents().empty());
    }
}

TEST_CASE("after a collector restart, silence counts from its first sweep", "[incidents]") {
    fixture f;  // last report at t0, silent after 3 h
    f.store = open_sqlite_store(f.db_file, f.settings);
    f.store->sweep_incidents(t0 + 5 * 3600);  // back after 5 h: the hosts could not report
    CHECK(f.all_incidents().empty());
    f.store->sweep_incidents(t0 + 8 * 3600);
    CHECK(f.all_incidents().empty());
    f.store->sweep_incidents(t0 + 8 * 3600 + 1);
    auto incidents = f.all_incidents();
    REQUIRE(incidents.size() == 1);
    CHECK(incidents[0].check_id == std::string(host_not_reporting));
}

TEST_CASE("SLA breaches: set by the sweep, and right when read", "[incidents]") {
    fixture f;
    f.send_status("critical", t0 + 60);
    f.send_status("critical", t0 + 120);  // P2: response 1 h, resolution 8 h
    auto id = f.all_incidents()[0].id;
    auto& incidents = f.store->incidents();
    CHECK_FALSE(incidents.get_incident(id, t0 + 120 + 3600)->response_breached);
    CHECK(incidents.get_incident(id, t0 + 120 + 3601)->response_breached);
    CHECK(f.count("SELECT response_breached FROM incidents WHERE id = " + std::to_string(id)) == 0);
    f.store->sweep_incidents(t0 + 120 + 3601);
    CHECK(f.count("SELECT response_breached FROM incidents WHERE id = " + std::to_string(id)) == 1);
    CHECK(f.count("SELECT resolution_breached FROM incidents WHERE id = " + std::to_string(id)) ==
          0);
    // A late acknowledgement does not undo the breach.
    REQUIRE(incidents.acknowledge(id, "bob", t0 + 7200).outcome == lifecycle_outcome::done);
    CHECK(incidents.get_incident(id, t0 + 7200)->response_breached);
    f.store->sweep_incidents(t0 + 120 + 8 * 3600 + 1);
    CHECK(f.count("SELECT resolution_breached FROM incidents WHERE id = " + std::to_string(id)) ==
          1);
}

TEST_CASE("the manual lifecycle: acknowledge, comment, resolve, close", "[incidents]") {
    fixture f;
    f.send_status("critical", t0 + 60);
    f.send_status("critical", t0 + 120);
    auto& incidents = f.store->incidents();
    auto id = f.all_incidents()[0].id;

    CHECK(incidents.acknowledge(999, "bob", t0).outcome == lifecycle_outcome::not_found);
    CHECK(incidents.close(id, "bob", "", t0 + 130).outcome == lifecycle_outcome::not_allowed);
    CHECK(incidents.acknowledge(id, "bob", t0 + 300).outcome == lifecycle_outcome::done);
    CHECK(incidents.acknowledge(id, "bob", t0 + 301).outcome == lifecycle_outcome::not_allowed);
    CHECK(incidents.comment(id, "bob", "looking at the log rotation", t0 + 400).outcome ==
          lifecycle_outcome::done);
    CHECK(incidents.comment(id, "bob", "", t0 + 400).outcome == lifecycle_outcome::not_allowed);
    auto acknowledged = *incidents.get_incident(id, t0 + 400);
    CHECK_FALSE(incidents.get_incident(999, t0 + 400));
    CHECK(acknowledged.state == "acknowledged");
    CHECK(acknowledged.acknowledged_at == t0 + 300);

    // Still failing while acknowledged: updated, not reopened or duplicated.
    f.send_status("critical", t0 + 500);
    CHECK(incidents.get_incident(id, t0 + 500)->state == "acknowledged");

    CHECK(incidents.resolve(id, "bob", "rotated the logs", t0 + 600).outcome ==
          lifecycle_outcome::done);
    CHECK(incidents.resolve(id, "bob", "again", t0 + 601).outcome ==
          lifecycle_outcome::not_allowed);
    CHECK(incidents.close(id, "carol", "done", t0 + 700).outcome == lifecycle_outcome::done);
    auto closed = *incidents.get_incident(id, t0 + 700);
    CHECK(closed.state == "closed");
    CHECK(closed.closed_at == t0 + 700);
    CHECK(closed.resolved_at == t0 + 600);

    auto events = incidents.incident_events(id);
    REQUIRE(events.size() == 5);
    CHECK(events[1].kind == "acknowledged");
    CHECK(events[1].actor == "bob");
    CHECK(events[1].time == t0 + 300);
    CHECK(events[2].kind == "comment");
    CHECK(events[2].note == "looking at the log rotation");
    CHECK(events[3].kind == "resolved");
    CHECK(events[3].note == "rotated the logs");
    CHECK(events[4].kind == "closed");
    CHECK(events[4].actor == "carol");

    std::vector<std::string> sent;
    for (const auto& row : f.outbox()) sent.push_back(row.event);
    CHECK(sent == std::vector<std::string>{"trigger", "acknowledge", "resolve"});

    // Closed is final: the next failures open a new incident.
    f.send_status("critical", t0 + 800);
    f.send_status("critical", t0 + 860);
    CHECK(f.all_incidents().size() == 2);

    incident_query query;
    query.states = {"new", "acknowledged"};
    auto open = incidents.list_incidents(query, t0 + 900);
    REQUIRE(open.size() == 1);
    CHECK(open[0].id != id);
    query.states = {"closed"};
    REQUIRE(incidents.list_incidents(query, t0 + 900).size() == 1);
    CHECK(incidents.list_incidents(query, t0 + 900)[0].id == id);
    query = {};
    query.check_id = "root-disk";
    query.limit = 1;
    auto newest = incidents.list_incidents(query, t0 + 900);
    REQUIRE(newest.size() == 1);
    CHECK(newest[0].id == open[0].id);
    query = {};
    query.ci_id = open[0].ci_id + 1000;
    CHECK(incidents.list_incidents(query, t0 + 900).empty());
}

TEST_CASE("three incidents of one check within the window open a problem", "[incidents]") {
    fixture f;
    f.settings.reopen_within = 0;
    f.store = open_sqlite_store(f.db_file, f.settings);
    std::int64_t at = t0;
    auto cycle = [&] {
        for (auto status : {"critical", "critical", "ok", "ok"}) f.send_status(status, at += 600);
    };
    cycle();
    cycle();
    CHECK(f.store->incidents().list_problems(false).empty());
    cycle();
    auto problems = f.store->incidents().list_problems(true);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].check_id == "root-disk");
    CHECK(problems[0].state == "open");
    CHECK(problems[0].incident_ids.size() == 3);
    cycle();
    problems = f.store->incidents().list_problems(true);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].incident_ids.size() == 4);
    for (const auto& incident : f.all_incidents()) CHECK(incident.problem_id == problems[0].id);
}

TEST_CASE("malformed check results refuse the report and leave nothing behind", "[incidents]") {
    fixture f;
    struct row {
        json::value checks;
        std::string message;
    };
    auto bad_status = result("root-disk", "broken");
    auto no_id = result("root-disk", "ok");
    no_id.erase("id");
    auto text_value = result("root-disk", "ok");
    text_value["value"] = "high";
    auto reserved = result(std::string(host_not_reporting), "ok");
    auto r = GENERATE_COPY(values<row>({
        {json::array{result("a", "ok"), bad_status}, "checks[1].status"},
        {json::array{no_id}, "checks[0].id"},
        {json::array{text_value}, "checks[0].value"},
        {json::array{reserved}, "checks[0].id"},
        {json::value("nope"), "checks"},
    }));
    auto report = f.report_with(json::array{});
    report.document["checks"] = r.checks;
    report.body_sha256 = muster::sha256_hex(json::serialize(report.document));
    auto outcome = f.ingest(report, t0 + 60);
    CHECK(outcome.status == ingest_status::malformed);
    CHECK_THAT(outcome.message, Catch::Contains(r.message));
    CHECK(f.count("SELECT count(*) FROM check_states") == 0);
    CHECK(f.find_seq() == 1);
}

TEST_CASE("KPIs from the store", "[incidents]") {
    fixture f;
    f.send_status("critical", t0 + 60);
    f.send_status("critical", t0 + 120);
    auto id = f.all_incidents()[0].id;
    REQUIRE(f.store->incidents().acknowledge(id, "bob", t0 + 120 + 600).outcome ==
            lifecycle_outcome::done);
    f.send_status("ok", t0 + 1800);
    f.send_status("ok", t0 + 120 + 3600);
    auto report = f.store->incidents().kpis(t0, t0 + 86400);
    CHECK(report.all.incidents == 1);
    CHECK(*report.all.mtta_seconds == Approx(600));
    CHECK(*report.all.mttr_seconds == Approx(3600));
    CHECK(*report.all.compliance == Approx(1.0));
    CHECK(report.by_priority[1].incidents == 1);
    REQUIRE(report.by_service.size() == 1);
    CHECK(report.by_service[0].group == "web");
    CHECK(f.store->incidents().kpis(t0 + 121, t0 + 86400).all.incidents == 0);
}
