#include "collector/admin/incident_reads.h"

#include "collector/admin/paging.h"
#include "collector/admin/read_pool.h"
#include "collector/admin/sql_builder.h"
#include "collector/incidents/incident_rows.h"

#include <limits>

namespace muster::collector::admin {
namespace {

namespace json = boost::json;

bool has_incident_tables(statement_cache& sql) {
    return table_exists(sql.db(), "incidents");
}

json::object incident_json(statement_cache& sql, std::int64_t id, std::int64_t now) {
    auto record = incidents::load_incident(sql, id);
    if (!record) return {};
    return incidents::to_json(incidents::with_breaches(std::move(*record), now));
}

}  // namespace

page read_incidents(statement_cache& sql, const incident_filter& filter,
                    const page_request& request, std::int64_t now) {
    auto before = key_int(request, 0, std::numeric_limits<std::int64_t>::max());
    if (!has_incident_tables(sql)) return {};
    sql_params params;
    sql_where where;
    where.add("id < " + params.add(before));
    if (filter.state == "open") {
        where.add("state IN ('new', 'acknowledged')");
    } else if (filter.state) {
        where.add("state = " + params.add(*filter.state));
    }
    if (filter.priority) {
        // "P1".."P4", validated by the caller.
        where.add("priority = " +
                  params.add(static_cast<std::int64_t>(filter.priority->at(1) - '0')));
    }
    if (filter.ci_id) where.add("ci_id = " + params.add(*filter.ci_id));
    if (filter.service) where.add("service = " + params.add(*filter.service));
    if (filter.check) where.add("check_id = " + params.add(*filter.check));
    auto limit = params.add(static_cast<std::int64_t>(request.limit + 1));
    std::vector<std::int64_t> ids;
    {
        auto select =
            sql("SELECT id FROM incidents" + where.text() + " ORDER BY id DESC LIMIT " + limit);
        params.bind(*select);
        while (select->step()) ids.push_back(select->column_int64(0));
    }
    page out;
    for (auto id : ids) {
        if (out.items.size() == request.limit) {
            out.next_key = id_key(out.items.back().as_object());
            break;
        }
        auto item = incident_json(sql, id, now);
        if (!item.empty()) out.items.push_back(std::move(item));
    }
    return out;
}

std::optional<json::object> read_incident(statement_cache& sql, std::int64_t id, bool with_events,
                                          std::int64_t now) {
    if (!has_incident_tables(sql)) return std::nullopt;
    auto item = incident_json(sql, id, now);
    if (item.empty()) return std::nullopt;
    if (!with_events) return item;
    json::array events;
    auto select = sql(
        "SELECT time, actor, kind, note FROM incident_events WHERE incident_id = ?1 ORDER BY id");
    select->bind(1, id);
    while (select->step()) events.push_back(row_object(*select));
    item["events"] = std::move(events);
    return item;
}

page read_problems(statement_cache& sql, const std::optional<std::string>& state,
                   const page_request& request) {
    auto before = key_int(request, 0, std::numeric_limits<std::int64_t>::max());
    if (!table_exists(sql.db(), "problems")) return {};
    sql_params params;
    sql_where where;
    where.add("p.id < " + params.add(before));
    if (state) where.add("p.state = " + params.add(*state));
    auto limit = params.add(static_cast<std::int64_t>(request.limit + 1));
    auto select =
        sql("SELECT p.id, p.ci_id, coalesce(c.hostname, 'ci-' || p.ci_id) AS host, "
            "p.check_id AS \"check\", p.title, p.state, p.opened_at, p.closed_at FROM problems p "
            "LEFT JOIN cis c ON c.id = p.ci_id" +
            where.text() + " ORDER BY p.id DESC LIMIT " + limit);
    params.bind(*select);
    auto result = collect(
        *select, request.limit, [](sqlite_statement& s) { return row_object(s); }, id_key);
    auto members = sql("SELECT id FROM incidents WHERE problem_id = ?1 ORDER BY id");
    for (auto& item : result.items) {
        json::array ids;
        (*members).reset();
        members->bind(1, item.as_object().at("id").as_int64());
        while (members->step()) ids.push_back(members->column_int64(0));
        item.as_object()["incidents"] = std::move(ids);
    }
    return result;
}

}  // namespace muster::collector::admin
