#include "collector/incidents/sqlite_incidents.h"

#include "collector/incidents/engine.h"
#include "collector/incidents/incident_rows.h"

namespace muster::collector::incidents {
namespace {

constexpr std::size_t max_note_bytes = 64 * 1024;

lifecycle_result refuse(lifecycle_outcome outcome, std::string message) {
    return {outcome, std::move(message)};
}

std::optional<std::int64_t> optional_int(sqlite_statement& row, int column) {
    if (row.column_is_null(column)) return std::nullopt;
    return row.column_int64(column);
}

}  // namespace

template <class Change>
lifecycle_result sqlite_incidents::transition(std::int64_t id, const std::string& actor,
                                              Change change) {
    if (actor.empty()) return refuse(lifecycle_outcome::not_allowed, "the actor is empty");
    std::lock_guard lock(writer_.mutex);
    sqlite_transaction transaction(writer_.sql.db());
    auto incident = load_incident(writer_.sql, id);
    if (!incident) {
        return refuse(lifecycle_outcome::not_found, "no incident " + std::to_string(id));
    }
    lifecycle_result result = change(*incident);
    if (result.outcome == lifecycle_outcome::done) transaction.commit();
    return result;
}

lifecycle_result sqlite_incidents::acknowledge(std::int64_t id, const std::string& actor,
                                               std::int64_t now) {
    return transition(id, actor, [&](const incident_record& incident) {
        if (incident.state != "new") {
            return refuse(lifecycle_outcome::not_allowed,
                          "incident " + std::to_string(id) + " is " + incident.state +
                              "; only a new incident can be acknowledged");
        }
        // The first acknowledgement is the response the SLA judges; a reopened incident
        // keeps it.
        auto acknowledged_at = incident.acknowledged_at.value_or(now);
        auto breaches = sla_breached(
            {incident.response_due, incident.resolution_due, acknowledged_at, std::nullopt}, now);
        auto update = writer_.sql(
            "UPDATE incidents SET state = 'acknowledged', acknowledged_at = ?2, updated_at = ?3, "
            "response_breached = MAX(response_breached, ?4) WHERE id = ?1");
        update->bind(1, id);
        update->bind(2, acknowledged_at);
        update->bind(3, now);
        update->bind(4, breaches.response ? 1 : 0);
        update->step();
        add_event(writer_.sql, id, now, actor, "acknowledged", "");
        notify(writer_.sql, id, "acknowledge", now);
        return lifecycle_result{};
    });
}

lifecycle_result sqlite_incidents::resolve(std::int64_t id, const std::string& actor,
                                           const std::string& note, std::int64_t now) {
    if (note.size() > max_note_bytes)
        return refuse(lifecycle_outcome::not_allowed, "note too long");
    return transition(id, actor, [&](const incident_record& incident) {
        if (!is_open_state(incident.state)) {
            return refuse(lifecycle_outcome::not_allowed,
                          "incident " + std::to_string(id) + " is already " + incident.state);
        }
        resolve_incident(writer_.sql, id, actor, note, now);
        return lifecycle_result{};
    });
}

lifecycle_result sqlite_incidents::comment(std::int64_t id, const std::string& actor,
                                           const std::string& text, std::int64_t now) {
    if (text.empty() || text.size() > max_note_bytes) {
        return refuse(lifecycle_outcome::not_allowed, "a comment needs 1 to 65536 bytes of text");
    }
    return transition(id, actor, [&](const incident_record&) {
        add_event(writer_.sql, id, now, actor, "comment", text);
        return lifecycle_result{};
    });
}

lifecycle_result sqlite_incidents::close(std::int64_t id, const std::string& actor,
                                         const std::string& note, std::int64_t now) {
    if (note.size() > max_note_bytes)
        return refuse(lifecycle_outcome::not_allowed, "note too long");
    return transition(id, actor, [&](const incident_record& incident) {
        if (incident.state != "resolved") {
            return refuse(lifecycle_outcome::not_allowed,
                          "incident " + std::to_string(id) + " is " + incident.state +
                              "; only a resolved incident can be closed");
        }
        auto update = writer_.sql(
            "UPDATE incidents SET state = 'closed', closed_at = ?2, updated_at = ?2 WHERE id = ?1");
        update->bind(1, id);
        update->bind(2, now);
        update->step();
        add_event(writer_.sql, id, now, actor, "closed", note);
        return lifecycle_result{};
    });
}

std::vector<incident_record> sqlite_incidents::list_incidents(const incident_query& query,
                                                              std::int64_t now) {
    std::vector<incident_record> out;
    {
        std::lock_guard lock(reader_.mutex);
        out = load_incidents(reader_.sql, query);
    }
    for (auto& record : out) record = with_breaches(std::move(record), now);
    return out;
}

std::optional<incident_record> sqlite_incidents::get_incident(std::int64_t id, std::int64_t now) {
    std::lock_guard lock(reader_.mutex);
    auto record = load_incident(reader_.sql, id);
    if (!record) return std::nullopt;
    return with_breaches(std::move(*record), now);
}

std::vector<incident_event> sqlite_incidents::incident_events(std::int64_t id) {
    std::lock_guard lock(reader_.mutex);
    auto select = reader_.sql(
        "SELECT incident_id, time, actor, kind, note FROM incident_events WHERE incident_id = ?1 "
        "ORDER BY id");
    select->bind(1, id);
    std::vector<incident_event> out;
    while (select->step()) {
        out.push_back({select->column_int64(0), select->column_int64(1), select->column_text(2),
                       select->column_text(3), select->column_text(4)});
    }
    return out;
}

std::vector<problem_record> sqlite_incidents::list_problems(bool open_only) {
    std::lock_guard lock(reader_.mutex);
    std::vector<problem_record> out;
    {
        auto select = reader_.sql(
            "SELECT id, ci_id, check_id, title, state, opened_at, closed_at FROM problems "
            "WHERE ?1 = 0 OR state = 'open' ORDER BY id");
        select->bind(1, open_only ? 1 : 0);
        while (select->step()) {
            problem_record problem;
            problem.id = select->column_int64(0);
            problem.ci_id = select->column_int64(1);
            problem.check_id = select->column_text(2);
            problem.title = select->column_text(3);
            problem.state = select->column_text(4);
            problem.opened_at = select->column_int64(5);
            problem.closed_at = optional_int(*select, 6);
            out.push_back(std::move(problem));
        }
    }
    for (auto& problem : out) {
        auto linked = reader_.sql("SELECT id FROM incidents WHERE problem_id = ?1 ORDER BY id");
        linked->bind(1, problem.id);
        while (linked->step()) problem.incident_ids.push_back(linked->column_int64(0));
    }
    return out;
}

kpi_report sqlite_incidents::kpis(std::int64_t since, std::int64_t until) {
    std::vector<kpi_incident> incidents;
    {
        std::lock_guard lock(reader_.mutex);
        auto select = reader_.sql(
            "SELECT priority, service, opened_at, response_due, resolution_due, acknowledged_at, "
            "resolved_at FROM incidents WHERE opened_at >= ?1 AND opened_at < ?2");
        select->bind(1, since);
        select->bind(2, until);
        while (select->step()) {
            kpi_incident incident;
            incident.priority = static_cast<int>(select->column_int64(0));
            if (!select->column_is_null(1)) incident.service = select->column_text(1);
            incident.opened_at = select->column_int64(2);
            incident.clock = {select->column_int64(3), select->column_int64(4),
                              optional_int(*select, 5), optional_int(*select, 6)};
            incidents.push_back(std::move(incident));
        }
    }
    return incidents::kpis(incidents, since, until);
}

void sqlite_incidents::sweep(std::int64_t now) {
    std::lock_guard lock(writer_.mutex);
    if (!watching_since_) watching_since_ = now;
    sqlite_transaction transaction(writer_.sql.db());
    incidents::sweep(writer_.sql, settings_, now, *watching_since_);
    transaction.commit();
}

}  // namespace muster::collector::incidents
