#include "collector/incidents/engine.h"

#include "collector/incidents/check_result.h"
#include "collector/incidents/incident_rows.h"
#include "collector/incidents/rules.h"

#include <charconv>

namespace muster::collector::incidents {
namespace {

namespace json = boost::json;

constexpr std::string_view system_actor = "system";

// The CI as the engine sees it: how incidents name it, and the service that sets their
// impact and owner.
struct ci_context {
    std::int64_t id = 0;
    std::string host;
    level impact = level::medium;
    std::optional<std::string> service;
    std::optional<std::string> owner;
};

// What an incident records of the failure that opened or updated it.
struct failure {
    std::string check_id;
    std::string check_type;
    std::string status;
    std::string message;
    std::optional<double> value;
    std::string unit;
    level urgency = level::medium;
};

std::vector<std::string> parse_tags(const std::string& text) {
    std::vector<std::string> tags;
    boost::system::error_code ec;
    auto value = json::parse(text, ec);
    if (ec || !value.is_array()) return tags;
    for (const auto& tag : value.get_array()) {
        if (tag.is_string()) tags.emplace_back(tag.get_string());
    }
    return tags;
}

ci_context load_ci(statement_cache& sql, const incident_settings& settings, std::int64_t ci_id) {
    ci_context ci;
    ci.id = ci_id;
    ci.host = "ci-" + std::to_string(ci_id);
    ci.impact = settings.default_impact;
    auto select = sql("SELECT hostname, tags, os_id, os_name FROM cis WHERE id = ?1");
    select->bind(1, ci_id);
    if (!select->step()) return ci;
    auto text = [&](int column) {
        return select->column_is_null(column) ? std::string() : select->column_text(column);
    };
    ci_attributes attributes{text(0), parse_tags(text(1)), text(2), text(3)};
    if (!attributes.hostname.empty()) ci.host = attributes.hostname;
    if (const auto* service = service_for(attributes, settings.services)) {
        ci.impact = service->criticality;
        ci.service = service->name;
        if (!service->owner.empty()) ci.owner = service->owner;
    }
    return ci;
}

std::string join_times(const std::vector<std::int64_t>& times) {
    std::string out;
    for (auto time : times) out += (out.empty() ? "" : " ") + std::to_string(time);
    return out;
}

std::vector<std::int64_t> split_times(std::string_view text) {
    std::vector<std::int64_t> times;
    const char* at = text.data();
    const char* end = at + text.size();
    while (at < end) {
        std::int64_t time = 0;
        auto [next, ec] = std::from_chars(at, end, time);
        if (ec != std::errc()) break;
        times.push_back(time);
        at = next;
        while (at < end && *at == ' ') ++at;
    }
    return times;
}

check_track load_track(statement_cache& sql, std::int64_t ci_id, std::string_view check_id) {
    auto select =
        sql("SELECT last_ok, consecutive_bad, consecutive_ok, changes, last_change_at, flapping "
            "FROM check_states WHERE ci_id = ?1 AND check_id = ?2");
    select->bind(1, ci_id);
    select->bind(2, check_id);
    check_track track;
    if (!select->step()) return track;
    track.last_ok = select->column_int64(0) != 0;
    track.consecutive_bad = static_cast<int>(select->column_int64(1));
    track.consecutive_ok = static_cast<int>(select->column_int64(2));
    track.changes = split_times(select->column_text(3));
    if (!select->column_is_null(4)) track.last_change_at = select->column_int64(4);
    track.flapping = select->column_int64(5) != 0;
    return track;
}

void save_track(statement_cache& sql, std::int64_t ci_id, const check_result& result,
                const check_track& track, std::int64_t now) {
    auto upsert = sql(
        "INSERT INTO check_states (ci_id, check_id, check_type, severity, last_status, last_ok, "
        "consecutive_bad, consecutive_ok, changes, last_change_at, flapping, last_checked_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
        "ON CONFLICT (ci_id, check_id) DO UPDATE SET check_type = excluded.check_type, "
        "severity = excluded.severity, last_status = excluded.last_status, "
        "last_ok = excluded.last_ok, consecutive_bad = excluded.consecutive_bad, "
        "consecutive_ok = excluded.consecutive_ok, changes = excluded.changes, "
        "last_change_at = excluded.last_change_at, flapping = excluded.flapping, "
        "last_checked_at = excluded.last_checked_at");
    upsert->bind(1, ci_id);
    upsert->bind(2, result.id);
    upsert->bind(3, result.type);
    upsert->bind(4, to_string(result.severity));
    upsert->bind(5, result.status);
    upsert->bind(6, track.last_ok.value_or(true) ? 1 : 0);
    upsert->bind(7, track.consecutive_bad);
    upsert->bind(8, track.consecutive_ok);
    upsert->bind(9, join_times(track.changes));
    if (track.last_change_at) upsert->bind(10, *track.last_change_at);
    upsert->bind(11, track.flapping ? 1 : 0);
    upsert->bind(12, now);
    upsert->step();
}

std::optional<incident_link> latest_incident(statement_cache& sql, std::int64_t ci_id,
                                             std::string_view check_id) {
    auto select =
        sql("SELECT id, state, resolved_at FROM incidents WHERE ci_id = ?1 AND check_id = ?2 "
            "ORDER BY id DESC LIMIT 1");
    select->bind(1, ci_id);
    select->bind(2, check_id);
    if (!select->step()) return std::nullopt;
    incident_link link;
    link.id = select->column_int64(0);
    link.state = select->column_text(1);
    if (!select->column_is_null(2)) link.resolved_at = select->column_int64(2);
    return link;
}

std::string title_for(const ci_context& ci, const failure& f) {
    if (f.check_id == host_not_reporting) return ci.host + ": host not reporting";
    return ci.host + ": " + f.check_id + " " + f.status;
}

void bind_optional(sqlite_statement& statement, int index, const std::optional<std::string>& v) {
    if (v) {
        statement.bind(index, *v);
    } else {
        statement.bind(index, nullptr);
    }
}

// ?1 id, ?2 status, ?3 message, ?4 value, ?5 unit, ?6 now, ?7 title: what every failure
// writes to the incident it finds.
void bind_failure(sqlite_statement& statement, std::int64_t id, const ci_context& ci,
                  const failure& f, std::int64_t now) {
    statement.bind(1, id);
    statement.bind(2, f.status);
    statement.bind(3, f.message);
    if (f.value) statement.bind(4, *f.value);
    statement.bind(5, f.unit);
    statement.bind(6, now);
    statement.bind(7, title_for(ci, f));
}

void link_problem(statement_cache& sql, const incident_settings& settings, const ci_context& ci,
                  const std::string& check_id, std::int64_t incident_id, std::int64_t now) {
    std::optional<std::int64_t> problem_id;
    {
        auto open =
            sql("SELECT id FROM problems WHERE ci_id = ?1 AND check_id = ?2 AND "
                "state = 'open'");
        open->bind(1, ci.id);
        open->bind(2, check_id);
        if (open->step()) problem_id = open->column_int64(0);
    }
    auto cutoff = now - settings.problem_window;
    if (!problem_id) {
        std::vector<std::int64_t> opened;
        auto recent =
            sql("SELECT opened_at FROM incidents WHERE ci_id = ?1 AND check_id = ?2 "
                "AND opened_at >= ?3");
        recent->bind(1, ci.id);
        recent->bind(2, check_id);
        recent->bind(3, cutoff);
        while (recent->step()) opened.push_back(recent->column_int64(0));
        if (!needs_problem(opened, settings, now)) return;
        auto insert =
            sql("INSERT INTO problems (ci_id, check_id, title, opened_at) VALUES (?1, ?2, ?3, ?4)");
        insert->bind(1, ci.id);
        insert->bind(2, check_id);
        insert->bind(3, ci.host + ": " + check_id + " keeps failing (" +
                            std::to_string(opened.size()) + " incidents)");
        insert->bind(4, now);
        insert->step();
        problem_id = sql.db().last_insert_rowid();
    }
    // The new incident, and (for a new problem) the recent ones that made it.
    auto link =
        sql("UPDATE incidents SET problem_id = ?1 WHERE problem_id IS NULL AND "
            "(id = ?2 OR (ci_id = ?3 AND check_id = ?4 AND opened_at >= ?5))");
    link->bind(1, *problem_id);
    link->bind(2, incident_id);
    link->bind(3, ci.id);
    link->bind(4, check_id);
    link->bind(5, cutoff);
    link->step();
}

std::string describe(const failure& f) {
    return f.message.empty() ? f.status : f.status + ": " + f.message;
}

void open_incident(statement_cache& sql, const incident_settings& settings, const ci_context& ci,
                   const failure& f, bool flapping, std::int64_t now) {
    int priority = priority_of(ci.impact, f.urgency, settings.matrix);
    auto due = sla_due(priority, now, settings);
    auto insert =
        sql("INSERT INTO incidents (ci_id, status, message, value, unit, opened_at, title, "
            "check_id, check_type, state, priority, impact, urgency, service, owner, count, "
            "updated_at, last_seen, response_due, resolution_due, flapping, notifications_held) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'new', ?10, ?11, ?12, ?13, ?14, 1, ?6, "
            "?6, ?15, ?16, ?17, ?17)");
    bind_failure(*insert, ci.id, ci, f, now);
    insert->bind(8, f.check_id);
    insert->bind(9, f.check_type);
    insert->bind(10, priority);
    insert->bind(11, to_string(ci.impact));
    insert->bind(12, to_string(f.urgency));
    bind_optional(*insert, 13, ci.service);
    bind_optional(*insert, 14, ci.owner);
    insert->bind(15, due.response);
    insert->bind(16, due.resolution);
    insert->bind(17, flapping ? 1 : 0);
    insert->step();
    auto id = sql.db().last_insert_rowid();
    add_event(sql, id, now, system_actor, "opened", priority_name(priority) + " " + describe(f));
    if (flapping) {
        add_event(sql, id, now, system_actor, "flapping",
                  "opened while the check is flapping: notifications held");
    }
    link_problem(sql, settings, ci, f.check_id, id, now);
    notify(sql, id, "trigger", now);
}

void update_incident(statement_cache& sql, const incident_settings& settings, const ci_context& ci,
                     std::int64_t id, const failure& f, std::int64_t now) {
    auto before = load_incident(sql, id);
    if (!before) return;
    int priority = priority_of(ci.impact, f.urgency, settings.matrix);
    auto due = sla_due(priority, before->opened_at, settings);
    auto update =
        sql("UPDATE incidents SET status = ?2, message = ?3, value = ?4, unit = ?5, "
            "last_seen = ?6, updated_at = ?6, title = ?7, count = count + 1, priority = ?8, "
            "impact = ?9, urgency = ?10, service = ?11, owner = ?12, response_due = ?13, "
            "resolution_due = ?14 WHERE id = ?1");
    bind_failure(*update, id, ci, f, now);
    update->bind(8, priority);
    update->bind(9, to_string(ci.impact));
    update->bind(10, to_string(f.urgency));
    bind_optional(*update, 11, ci.service);
    bind_optional(*update, 12, ci.owner);
    update->bind(13, due.response);
    update->bind(14, due.resolution);
    update->step();
    // Repeats of the same status are counted, not logged one by one.
    if (before->status != f.status) {
        add_event(sql, id, now, system_actor, "updated", before->status + " -> " + describe(f));
    }
    if (before->priority != priority) {
        add_event(sql, id, now, system_actor, "priority",
                  priority_name(before->priority) + " -> " + priority_name(priority));
    }
}

void reopen_incident(statement_cache& sql, const ci_context& ci, std::int64_t id, const failure& f,
                     bool flapping, std::int64_t now) {
    auto update =
        sql("UPDATE incidents SET status = ?2, message = ?3, value = ?4, unit = ?5, "
            "last_seen = ?6, updated_at = ?6, title = ?7, count = count + 1, state = 'new', "
            "resolved_at = NULL, reopened_count = reopened_count + 1, "
            "flapping = MAX(flapping, ?8), notifications_held = MAX(notifications_held, ?8) "
            "WHERE id = ?1");
    bind_failure(*update, id, ci, f, now);
    update->bind(8, flapping ? 1 : 0);
    update->step();
    add_event(sql, id, now, system_actor, "reopened", describe(f));
    notify(sql, id, "trigger", now);
}

void mark_flapping(statement_cache& sql, const incident_settings& settings, std::int64_t id,
                   std::int64_t now) {
    auto update =
        sql("UPDATE incidents SET flapping = 1, notifications_held = 1, updated_at = ?2 "
            "WHERE id = ?1");
    update->bind(1, id);
    update->bind(2, now);
    update->step();
    add_event(sql, id, now, system_actor, "flapping",
              std::to_string(settings.flap_changes) + " state changes within " +
                  std::to_string(settings.flap_window) + " s: notifications held");
}

// Quiet again: the incident's current state goes out, once, in place of what was held.
void release(statement_cache& sql, const incident_settings& settings, std::int64_t id,
             std::int64_t now) {
    auto incident = load_incident(sql, id);
    if (!incident || !incident->flapping) return;
    auto update =
        sql("UPDATE incidents SET flapping = 0, notifications_held = 0, updated_at = ?2 "
            "WHERE id = ?1");
    update->bind(1, id);
    update->bind(2, now);
    update->step();
    add_event(sql, id, now, system_actor, "flapping",
              "no state change for " + std::to_string(settings.flap_quiet) +
                  " s: notifications released");
    if (!incident->notifications_held) return;
    if (is_open_state(incident->state)) {
        notify(sql, id, "trigger", now);
        if (incident->state == "acknowledged") notify(sql, id, "acknowledge", now);
    } else {
        notify(sql, id, "resolve", now);
    }
}

failure failure_of(const check_result& result) {
    return {result.id,    result.type, result.status,  result.message,
            result.value, result.unit, result.severity};
}

void apply_result(statement_cache& sql, const incident_settings& settings, const ci_context& ci,
                  const check_result& result, std::int64_t now) {
    auto track = load_track(sql, ci.id, result.id);
    auto link = latest_incident(sql, ci.id, result.id);
    auto decided = evaluate(track, link, result.ok(), settings, now);
    save_track(sql, ci.id, result, decided.track, now);
    if (decided.flapping_started && link &&
        (is_open_state(link->state) || reopens(link, settings, now))) {
        mark_flapping(sql, settings, link->id, now);
    }
    auto f = failure_of(result);
    switch (decided.action) {
        case incident_action::open:
            open_incident(sql, settings, ci, f, decided.track.flapping, now);
            break;
        case incident_action::update:
            update_incident(sql, settings, ci, link->id, f, now);
            break;
        case incident_action::reopen:
            reopen_incident(sql, ci, link->id, f, decided.track.flapping, now);
            break;
        case incident_action::resolve:
            resolve_incident(
                sql, link->id, std::string(system_actor),
                "resolved automatically: " + std::to_string(decided.track.consecutive_ok) +
                    " consecutive ok results",
                now);
            break;
        case incident_action::none:
            break;
    }
    if (decided.flapping_ended) {
        if (auto latest = latest_incident(sql, ci.id, result.id)) {
            release(sql, settings, latest->id, now);
        }
    }
}

void heard_from(statement_cache& sql, std::int64_t ci_id, std::int64_t now) {
    auto open = latest_incident(sql, ci_id, host_not_reporting);
    if (!open || !is_open_state(open->state)) return;
    resolve_incident(sql, open->id, std::string(system_actor),
                     "resolved automatically: the host reported again", now);
}

// ----------------------------------------------------------------------------------------
// The sweep.

void open_silent(statement_cache& sql, const incident_settings& settings, std::int64_t ci_id,
                 std::int64_t silent_for, std::int64_t interval, std::int64_t now) {
    auto ci = load_ci(sql, settings, ci_id);
    failure f{std::string(host_not_reporting),
              std::string(host_not_reporting),
              "critical",
              "no report for " + std::to_string(silent_for) + " s (expected every " +
                  std::to_string(interval) + " s)",
              static_cast<double>(silent_for),
              "s",
              settings.silent_urgency};
    auto link = latest_incident(sql, ci_id, host_not_reporting);
    if (reopens(link, settings, now)) {
        reopen_incident(sql, ci, link->id, f, false, now);
    } else {
        open_incident(sql, settings, ci, f, false, now);
    }
}

void sweep_silent(statement_cache& sql, const incident_settings& settings, std::int64_t now,
                  std::int64_t watching_since) {
    struct silent_ci {
        std::int64_t id;
        std::int64_t last_seen;
        std::int64_t interval;
    };
    std::vector<silent_ci> silent;
    {
        auto select =
            sql("SELECT c.id, c.last_seen, COALESCE(c.expected_interval, ?3) FROM cis c "
                "WHERE c.state != 'retired' AND MAX(c.last_seen, ?5) < ?1 - ?2 * "
                "COALESCE(c.expected_interval, ?3) AND NOT EXISTS (SELECT 1 FROM incidents i WHERE "
                "i.ci_id = c.id AND "
                "i.check_id = ?4 AND i.state IN ('new', 'acknowledged'))");
        select->bind(1, now);
        select->bind(2, settings.silent_after_intervals);
        select->bind(3, settings.default_expected_interval);
        select->bind(4, host_not_reporting);
        select->bind(5, watching_since);
        while (select->step()) {
            silent.push_back(
                {select->column_int64(0), select->column_int64(1), select->column_int64(2)});
        }
    }
    for (const auto& ci : silent) {
        open_silent(sql, settings, ci.id, now - ci.last_seen, ci.interval, now);
    }
}

void sweep_breaches(statement_cache& sql, std::int64_t now) {
    auto response =
        sql("UPDATE incidents SET response_breached = 1 WHERE response_breached = 0 AND "
            "state = 'new' AND acknowledged_at IS NULL AND response_due < ?1");
    response->bind(1, now);
    response->step();
    auto resolution =
        sql("UPDATE incidents SET resolution_breached = 1 WHERE resolution_breached = 0 AND "
            "state IN ('new', 'acknowledged') AND resolution_due < ?1");
    resolution->bind(1, now);
    resolution->step();
}

void sweep_flapping(statement_cache& sql, const incident_settings& settings, std::int64_t now) {
    std::vector<std::pair<std::int64_t, std::string>> flapping;
    {
        auto select = sql("SELECT ci_id, check_id FROM check_states WHERE flapping = 1");
        while (select->step())
            flapping.emplace_back(select->column_int64(0), select->column_text(1));
    }
    for (const auto& [ci_id, check_id] : flapping) {
        if (!quiet_again(load_track(sql, ci_id, check_id), settings, now)) continue;
        auto update =
            sql("UPDATE check_states SET flapping = 0 WHERE ci_id = ?1 AND check_id = ?2");
        update->bind(1, ci_id);
        update->bind(2, check_id);
        update->step();
        if (auto latest = latest_incident(sql, ci_id, check_id)) {
            release(sql, settings, latest->id, now);
        }
    }
}

}  // namespace

void resolve_incident(statement_cache& sql, std::int64_t id, const std::string& actor,
                      const std::string& note, std::int64_t now) {
    auto incident = load_incident(sql, id);
    if (!incident) return;
    auto breaches = sla_breached(
        {incident->response_due, incident->resolution_due, incident->acknowledged_at, now}, now);
    auto update =
        sql("UPDATE incidents SET state = 'resolved', resolved_at = ?2, updated_at = ?2, "
            "response_breached = MAX(response_breached, ?3), "
            "resolution_breached = MAX(resolution_breached, ?4) WHERE id = ?1");
    update->bind(1, id);
    update->bind(2, now);
    update->bind(3, breaches.response ? 1 : 0);
    update->bind(4, breaches.resolution ? 1 : 0);
    update->step();
    add_event(sql, id, now, actor, "resolved", note);
    notify(sql, id, "resolve", now);
}

void record_report(statement_cache& sql, const incident_settings& settings, std::int64_t ci_id,
                   const json::object& document, std::int64_t now) {
    auto checks = read_report_checks(document);
    if (checks.expected_interval) {
        auto update = sql("UPDATE cis SET expected_interval = ?2 WHERE id = ?1");
        update->bind(1, ci_id);
        update->bind(2, *checks.expected_interval);
        update->step();
    }
    heard_from(sql, ci_id, now);
    if (checks.results.empty()) return;
    auto ci = load_ci(sql, settings, ci_id);
    for (const auto& result : checks.results) apply_result(sql, settings, ci, result, now);
}

void sweep(statement_cache& sql, const incident_settings& settings, std::int64_t now,
           std::int64_t watching_since) {
    sweep_silent(sql, settings, now, watching_since);
    sweep_breaches(sql, now);
    sweep_flapping(sql, settings, now);
}

}  // namespace muster::collector::incidents
