#include "collector/incidents/incident_rows.h"

namespace muster::collector::incidents {
namespace {

namespace json = boost::json;

constexpr std::string_view incident_columns =
    "i.id, i.ci_id, COALESCE(c.hostname, 'ci-' || i.ci_id), i.check_id, i.check_type, i.title, "
    "i.state, i.priority, i.impact, i.urgency, i.service, i.owner, i.status, i.message, "
    "i.value, i.unit, i.count, i.opened_at, i.updated_at, i.last_seen, i.acknowledged_at, "
    "i.resolved_at, i.closed_at, i.response_due, i.resolution_due, i.response_breached, "
    "i.resolution_breached, i.flapping, i.notifications_held, i.problem_id, i.reopened_count";

std::string select_incidents(std::string_view where) {
    return "SELECT " + std::string(incident_columns) +
           " FROM incidents i LEFT JOIN cis c ON c.id = i.ci_id WHERE " + std::string(where);
}

std::optional<std::int64_t> optional_int(sqlite_statement& row, int column) {
    if (row.column_is_null(column)) return std::nullopt;
    return row.column_int64(column);
}

std::optional<std::string> optional_text(sqlite_statement& row, int column) {
    if (row.column_is_null(column)) return std::nullopt;
    return row.column_text(column);
}

incident_record read_incident(sqlite_statement& row) {
    incident_record r;
    int c = 0;
    r.id = row.column_int64(c++);
    r.ci_id = row.column_int64(c++);
    r.host = row.column_text(c++);
    r.check_id = row.column_text(c++);
    r.check_type = row.column_text(c++);
    r.title = row.column_text(c++);
    r.state = row.column_text(c++);
    r.priority = static_cast<int>(row.column_int64(c++));
    r.impact = row.column_text(c++);
    r.urgency = row.column_text(c++);
    r.service = optional_text(row, c++);
    r.owner = optional_text(row, c++);
    r.status = row.column_text(c++);
    r.message = row.column_text(c++);
    if (!row.column_is_null(c)) r.value = row.column_double(c);
    ++c;
    r.unit = row.column_text(c++);
    r.count = row.column_int64(c++);
    r.opened_at = row.column_int64(c++);
    r.updated_at = row.column_int64(c++);
    r.last_seen = row.column_int64(c++);
    r.acknowledged_at = optional_int(row, c++);
    r.resolved_at = optional_int(row, c++);
    r.closed_at = optional_int(row, c++);
    r.response_due = row.column_int64(c++);
    r.resolution_due = row.column_int64(c++);
    r.response_breached = row.column_int64(c++) != 0;
    r.resolution_breached = row.column_int64(c++) != 0;
    r.flapping = row.column_int64(c++) != 0;
    r.notifications_held = row.column_int64(c++) != 0;
    r.problem_id = optional_int(row, c++);
    r.reopened_count = static_cast<int>(row.column_int64(c++));
    return r;
}

json::value optional_json(const std::optional<std::int64_t>& value) {
    return value ? json::value(*value) : json::value(nullptr);
}

json::value optional_json(const std::optional<std::string>& value) {
    return value ? json::value(*value) : json::value(nullptr);
}

}  // namespace

std::optional<incident_record> load_incident(statement_cache& sql, std::int64_t id) {
    auto select = sql(select_incidents("i.id = ?1"));
    select->bind(1, id);
    if (!select->step()) return std::nullopt;
    return read_incident(*select);
}

std::vector<incident_record> load_incidents(statement_cache& sql, const incident_query& query) {
    // The filters are bound, never spliced: NULL means "any".
    std::string where =
        "(?1 IS NULL OR i.ci_id = ?1) AND (?2 IS NULL OR i.check_id = ?2) AND "
        "(?3 IS NULL OR instr(?3, ',' || i.state || ',') > 0) ORDER BY i.id DESC LIMIT ?4";
    auto select = sql(select_incidents(where));
    if (query.ci_id) select->bind(1, *query.ci_id);
    if (query.check_id) select->bind(2, *query.check_id);
    if (!query.states.empty()) {
        std::string states = ",";
        for (const auto& state : query.states) states += state + ",";
        select->bind(3, states);
    }
    select->bind(4, static_cast<std::int64_t>(query.limit));
    std::vector<incident_record> out;
    while (select->step()) out.push_back(read_incident(*select));
    return out;
}

incident_record with_breaches(incident_record record, std::int64_t now) {
    auto judged = sla_breached(
        {record.response_due, record.resolution_due, record.acknowledged_at, record.resolved_at},
        now);
    record.response_breached = record.response_breached || judged.response;
    record.resolution_breached = record.resolution_breached || judged.resolution;
    return record;
}

void add_event(statement_cache& sql, std::int64_t incident_id, std::int64_t time,
               std::string_view actor, std::string_view kind, std::string_view note) {
    auto insert =
        sql("INSERT INTO incident_events (incident_id, time, actor, kind, note) "
            "VALUES (?1, ?2, ?3, ?4, ?5)");
    insert->bind(1, incident_id);
    insert->bind(2, time);
    insert->bind(3, actor);
    insert->bind(4, kind);
    insert->bind(5, note);
    insert->step();
}

std::string dedup_key(std::int64_t incident_id) {
    return "muster-incident-" + std::to_string(incident_id);
}

void notify(statement_cache& sql, std::int64_t incident_id, std::string_view event,
            std::int64_t now) {
    auto incident = load_incident(sql, incident_id);
    if (!incident || incident->notifications_held) return;
    json::object payload{{"event", event}, {"incident", payload_incident(*incident)}};
    auto insert =
        sql("INSERT INTO notification_outbox (incident_id, event, dedup_key, payload, created_at) "
            "VALUES (?1, ?2, ?3, ?4, ?5)");
    insert->bind(1, incident_id);
    insert->bind(2, event);
    insert->bind(3, dedup_key(incident_id));
    insert->bind(4, json::serialize(payload));
    insert->bind(5, now);
    insert->step();
}

json::object payload_incident(const incident_record& incident) {
    return json::object{
        {"id", incident.id},
        {"title", incident.title},
        {"host", incident.host},
        {"ci_id", incident.ci_id},
        {"check", incident.check_id},
        {"check_type", incident.check_type},
        {"state", incident.state},
        {"priority", priority_name(incident.priority)},
        {"impact", incident.impact},
        {"urgency", incident.urgency},
        {"status", incident.status},
        {"message", incident.message},
        {"value", incident.value ? json::value(*incident.value) : json::value(nullptr)},
        {"unit", incident.unit},
        {"service", optional_json(incident.service)},
        {"owner", optional_json(incident.owner)},
        {"opened_at", incident.opened_at},
        {"updated_at", incident.updated_at},
        {"resolved_at", optional_json(incident.resolved_at)},
        {"response_due", incident.response_due},
        {"resolution_due", incident.resolution_due},
        {"count", incident.count},
        {"flapping", incident.flapping},
    };
}

json::object to_json(const incident_record& incident) {
    auto out = payload_incident(incident);
    out["last_seen"] = incident.last_seen;
    out["acknowledged_at"] = optional_json(incident.acknowledged_at);
    out["closed_at"] = optional_json(incident.closed_at);
    out["response_breached"] = incident.response_breached;
    out["resolution_breached"] = incident.resolution_breached;
    out["notifications_held"] = incident.notifications_held;
    out["problem_id"] = optional_json(incident.problem_id);
    out["reopened_count"] = incident.reopened_count;
    return out;
}

json::object to_json(const incident_event& event) {
    return json::object{{"incident_id", event.incident_id},
                        {"time", event.time},
                        {"actor", event.actor},
                        {"kind", event.kind},
                        {"note", event.note}};
}

json::object to_json(const problem_record& problem) {
    json::array incidents;
    for (auto id : problem.incident_ids) incidents.push_back(id);
    return json::object{{"id", problem.id},
                        {"ci_id", problem.ci_id},
                        {"check", problem.check_id},
                        {"title", problem.title},
                        {"state", problem.state},
                        {"opened_at", problem.opened_at},
                        {"closed_at", optional_json(problem.closed_at)},
                        {"incidents", std::move(incidents)}};
}

}  // namespace muster::collector::incidents
