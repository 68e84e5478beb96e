// The incident engine's decisions (collector/incidents/rules.h, kpis.h) with a controllable
// clock: each case feeds results at chosen times and checks what the rules decide.
#include "collector/incidents/kpis.h"
#include "collector/incidents/rules.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

using namespace muster::collector::incidents;

// Plays the engine's part around evaluate(): keeps the one incident the decisions act on.
struct simulation {
    incident_settings settings;
    check_track track;
    std::optional<incident_link> incident;
    std::int64_t next_id = 1;

    evaluation step(bool ok, std::int64_t now) {
        auto decided = evaluate(track, incident, ok, settings, now);
        track = decided.track;
        switch (decided.action) {
            case incident_action::open:
                incident = incident_link{next_id++, "new", std::nullopt};
                break;
            case incident_action::reopen:
                incident->state = "new";
                incident->resolved_at.reset();
                break;
            case incident_action::resolve:
                incident->state = "resolved";
                incident->resolved_at = now;
                break;
            default:
                break;
        }
        return decided;
    }

    // 'x' not ok, 'o' ok, one result per minute from start; the action letters: '.' none,
    // 'O' open, 'U' update, 'R' resolve, 'P' reopen.
    std::string run(std::string_view results, std::int64_t start = 0) {
        std::string actions;
        for (char c : results) {
            auto decided = step(c == 'o', start);
            start += 60;
            switch (decided.action) {
                case incident_action::none:
                    actions += '.';
                    break;
                case incident_action::open:
                    actions += 'O';
                    break;
                case incident_action::update:
                    actions += 'U';
                    break;
                case incident_action::resolve:
                    actions += 'R';
                    break;
                case incident_action::reopen:
                    actions += 'P';
                    break;
            }
        }
        return actions;
    }
};

}  // namespace

TEST_CASE("open after open_after failures, update, resolve after resolve_after", "[incidents]") {
    struct row {
        int open_after;
        int resolve_after;
        std::string results;
        std::string actions;
    };
    auto r = GENERATE(values<row>({
        {2, 2, "x", "."},
        {2, 2, "xx", ".O"},
        {2, 2, "xxxx", ".OUU"},
        {2, 2, "xoxo", "...."},  // never two in a row
        {2, 2, "xxoo", ".O.R"},
        {2, 2, "xxoxoo", ".O.U.R"},  // a failure between oks starts the count again
        {1, 1, "xo", "OR"},
        {3, 2, "xxxoo", "..O.R"},
        {2, 3, "xxooo", ".O..R"},
        {2, 2, "oooo", "...."},
    }));
    simulation sim;
    sim.settings.open_after = r.open_after;
    sim.settings.resolve_after = r.resolve_after;
    sim.settings.flap_changes = 100;  // not about flapping
    INFO(r.results);
    CHECK(sim.run(r.results) == r.actions);
}

TEST_CASE("a failure within reopen_within reopens the same incident", "[incidents]") {
    simulation sim;
    sim.settings.flap_changes = 100;
    REQUIRE(sim.run("xxoo", 0) == ".O.R");  // resolved at 180
    auto resolved_at = *sim.incident->resolved_at;
    CHECK(resolved_at == 180);

    SECTION("inside the window: one failure reopens") {
        CHECK(sim.step(false, resolved_at + 3600).action == incident_action::reopen);
        CHECK(sim.incident->id == 1);
    }
    SECTION("after the window: open_after failures open a new one") {
        CHECK(sim.step(false, resolved_at + 3601).action == incident_action::none);
        CHECK(sim.step(false, resolved_at + 3660).action == incident_action::open);
        CHECK(sim.incident->id == 2);
    }
    SECTION("a closed incident is never reopened") {
        sim.incident->state = "closed";
        CHECK(sim.step(false, resolved_at + 10).action == incident_action::none);
        CHECK(sim.step(false, resolved_at + 20).action == incident_action::open);
        CHECK(sim.incident->id == 2);
    }
    SECTION("reopen_within 0 never reopens") {
        sim.settings.reopen_within = 0;
        CHECK(sim.step(false, resolved_at + 1).action == incident_action::none);
    }
}

TEST_CASE("flapping starts at N changes within the window and ends after quiet", "[incidents]") {
    simulation sim;
    sim.settings.flap_changes = 4;
    sim.settings.flap_window = 600;
    sim.settings.flap_quiet = 300;
    // Changes at 10, 20, 30: three, not yet flapping.
    CHECK_FALSE(sim.step(true, 0).flapping_started);
    CHECK_FALSE(sim.step(false, 10).flapping_started);
    CHECK_FALSE(sim.step(true, 20).flapping_started);
    CHECK_FALSE(sim.step(false, 30).flapping_started);
    auto fourth = sim.step(true, 40);
    CHECK(fourth.flapping_started);
    CHECK(fourth.track.flapping);
    // Still changing: stays flapping, starts only once.
    auto fifth = sim.step(false, 50);
    CHECK_FALSE(fifth.flapping_started);
    CHECK_FALSE(fifth.flapping_ended);
    CHECK(sim.track.flapping);
    // Steady after 50: quiet at 350, not before.
    CHECK_FALSE(sim.step(false, 349).flapping_ended);
    CHECK_FALSE(quiet_again(sim.track, sim.settings, 349));
    CHECK(quiet_again(sim.track, sim.settings, 350));
    auto quiet = sim.step(false, 350);
    CHECK(quiet.flapping_ended);
    CHECK_FALSE(sim.track.flapping);
}

TEST_CASE("changes spread wider than the window are not flapping", "[incidents]") {
    simulation sim;
    sim.settings.flap_changes = 3;
    sim.settings.flap_window = 100;
    bool ok = true;
    for (std::int64_t t = 0; t < 2000; t += 60) {
        CHECK_FALSE(sim.step(ok, t).flapping_started);
        ok = !ok;
    }
    CHECK(sim.track.changes.size() <= 2);
}

TEST_CASE("quiet is measured from the last change even when the window forgot it", "[incidents]") {
    simulation sim;
    sim.settings.flap_changes = 2;
    sim.settings.flap_window = 60;
    sim.settings.flap_quiet = 600;
    sim.step(true, 0);
    sim.step(false, 10);
    REQUIRE(sim.step(true, 20).flapping_started);
    CHECK_FALSE(sim.step(true, 500).flapping_ended);  // window empty, quiet not reached
    CHECK(sim.step(true, 620).flapping_ended);
}

TEST_CASE("the default ITIL priority matrix and a configured one", "[incidents]") {
    struct row {
        level impact;
        level urgency;
        int priority;
    };
    auto r = GENERATE(values<row>({
        {level::high, level::high, 1},
        {level::high, level::medium, 2},
        {level::medium, level::high, 2},
        {level::high, level::low, 3},
        {level::medium, level::medium, 3},
        {level::low, level::high, 3},
        {level::medium, level::low, 4},
        {level::low, level::medium, 4},
        {level::low, level::low, 4},
    }));
    CHECK(priority_of(r.impact, r.urgency, default_priority_matrix) == r.priority);
    priority_matrix all_p1{};
    for (auto& line : all_p1) line.fill(1);
    all_p1[2][2] = 4;
    CHECK(priority_of(level::low, level::low, all_p1) == 4);
    CHECK(priority_of(level::low, level::medium, all_p1) == 1);
}

TEST_CASE("services match by hostname glob, tag or OS, first one wins", "[incidents]") {
    std::vector<service_definition> services(3);
    services[0].name = "web";
    services[0].hostnames = {"web-*"};
    services[1].name = "db";
    services[1].tags = {"db", "postgres"};
    services[2].name = "legacy";
    services[2].os = {"centos", "Red Hat Enterprise Linux"};

    auto name_of = [&](ci_attributes ci) -> std::string {
        auto* found = service_for(ci, services);
        return found ? found->name : "-";
    };
    CHECK(name_of({"web-1", {}, "debian", ""}) == "web");
    CHECK(name_of({"WEB-2.example.org", {}, "", ""}) == "web");  // case-insensitive
    CHECK(name_of({"app-web-1", {}, "", ""}) == "-");            // a glob, not a substring
    CHECK(name_of({"pg-1", {"x", "postgres"}, "debian", ""}) == "db");
    CHECK(name_of({"pg-1", {"DB"}, "", ""}) == "-");  // tags are exact
    CHECK(name_of({"old", {}, "centos", ""}) == "legacy");
    CHECK(name_of({"old", {}, "rhel", "red hat enterprise linux"}) == "legacy");
    CHECK(name_of({"web-1", {"db"}, "centos", ""}) == "web");  // order decides
    CHECK(name_of({"", {}, "", ""}) == "-");
}

TEST_CASE("SLA due times per priority and breaches as of a time", "[incidents]") {
    incident_settings settings;
    const std::int64_t t0 = 1'000'000;
    struct row {
        int priority;
        std::int64_t response;
        std::int64_t resolution;
    };
    auto r = GENERATE(values<row>({{1, 900, 4 * 3600},
                                   {2, 3600, 8 * 3600},
                                   {3, 4 * 3600, 3 * 86400},
                                   {4, 86400, 5 * 86400}}));
    auto due = sla_due(r.priority, t0, settings);
    CHECK(due.response == t0 + r.response);
    CHECK(due.resolution == t0 + r.resolution);

    sla_clock clock{due.response, due.resolution, std::nullopt, std::nullopt};
    CHECK_FALSE(sla_breached(clock, due.response).response);  // due, not yet late
    CHECK(sla_breached(clock, due.response + 1).response);
    CHECK_FALSE(sla_breached(clock, due.response + 1).resolution);
    CHECK(sla_breached(clock, due.resolution + 1).resolution);

    clock.acknowledged_at = due.response;  // met, and stays met
    CHECK_FALSE(sla_breached(clock, due.resolution + 100).response);
    clock.acknowledged_at = due.response + 1;  // late, and stays late
    CHECK(sla_breached(clock, due.response + 1).response);

    sla_clock resolved_only{due.response, due.resolution, std::nullopt, due.response - 1};
    auto judged = sla_breached(resolved_only, due.resolution + 1000);
    CHECK_FALSE(judged.response);  // resolution counts as the response
    CHECK_FALSE(judged.resolution);
}

TEST_CASE("a problem needs problem_incidents incidents within the window", "[incidents]") {
    incident_settings settings;  // 3 within 7 days
    const std::int64_t now = 10'000'000;
    const std::int64_t day = 86400;
    std::vector<std::int64_t> three_recent{now - 6 * day, now - day, now};
    CHECK(needs_problem(three_recent, settings, now));
    std::vector<std::int64_t> two{now - day, now};
    CHECK_FALSE(needs_problem(two, settings, now));
    std::vector<std::int64_t> one_too_old{now - 7 * day - 1, now - day, now};
    CHECK_FALSE(needs_problem(one_too_old, settings, now));
    settings.problem_incidents = 2;
    CHECK(needs_problem(two, settings, now));
}

TEST_CASE("KPIs: MTTA, MTTR and SLA compliance with known figures", "[incidents]") {
    const std::int64_t h = 3600;
    auto incident = [](int priority, std::optional<std::string> service, std::int64_t opened,
                       std::optional<std::int64_t> ack, std::optional<std::int64_t> resolved) {
        incident_settings settings;
        auto due = sla_due(priority, opened, settings);
        return kpi_incident{priority, std::move(service), opened,
                            sla_clock{due.response, due.resolution, ack, resolved}};
    };
    std::vector<kpi_incident> incidents{
        // P1 web: acknowledged after 10 min, resolved after 2 h: compliant.
        incident(1, "web", 0, 600, 2 * h),
        // P1 web: acknowledged after 30 min (late, target 15 min), resolved after 3 h.
        incident(1, "web", 100, 100 + 1800, 100 + 3 * h),
        // P2 no service: never acknowledged, resolved after 30 min: compliant.
        incident(2, std::nullopt, 200, std::nullopt, 200 + 1800),
        // P3 db: still open, not yet due at `until`: undecided.
        incident(3, "db", 10 * h, std::nullopt, std::nullopt),
        // Outside the period.
        incident(1, "web", 20 * h, 20 * h + 60, 20 * h + 120),
    };
    auto report = kpis(incidents, 0, 12 * h);
    CHECK(report.all.incidents == 4);
    CHECK(report.all.acknowledged == 2);
    CHECK(report.all.resolved == 3);
    REQUIRE(report.all.mtta_seconds);
    CHECK(*report.all.mtta_seconds == Approx((600.0 + 1800.0) / 2));
    REQUIRE(report.all.mttr_seconds);
    CHECK(*report.all.mttr_seconds == Approx((2.0 * h + 3.0 * h + 1800.0) / 3));
    CHECK(report.all.compliant == 2);
    CHECK(report.all.breached == 1);
    REQUIRE(report.all.compliance);
    CHECK(*report.all.compliance == Approx(2.0 / 3));

    REQUIRE(report.by_priority.size() == 4);
    CHECK(report.by_priority[0].group == "P1");
    CHECK(report.by_priority[0].incidents == 2);
    CHECK(*report.by_priority[0].compliance == Approx(0.5));
    CHECK(*report.by_priority[0].mtta_seconds == Approx(1200.0));
    CHECK(report.by_priority[1].incidents == 1);
    CHECK_FALSE(report.by_priority[1].mtta_seconds);
    CHECK(report.by_priority[2].incidents == 1);
    CHECK_FALSE(report.by_priority[2].compliance);  // nothing decided
    CHECK(report.by_priority[3].incidents == 0);

    REQUIRE(report.by_service.size() == 3);
    CHECK(report.by_service[0].group == "");  // no service sorts first
    CHECK(report.by_service[1].group == "db");
    CHECK(report.by_service[2].group == "web");
    CHECK(report.by_service[2].incidents == 2);

    // Judged later, the P3 incident has missed its response (4 h): breached.
    auto later = kpis(incidents, 0, 15 * h);
    CHECK(later.by_priority[2].breached == 1);
    // Judged before the acknowledgements happened, they do not count yet.
    auto early = kpis(incidents, 0, 300);
    CHECK(early.all.incidents == 3);
    CHECK(early.all.acknowledged == 0);
    CHECK(early.all.resolved == 0);
}
