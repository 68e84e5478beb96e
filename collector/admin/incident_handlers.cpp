#include "collector/admin/handlers.h"

#include "collector/incidents/incident_store.h"
#include "collector/incidents/kpis.h"
#include "common/logging.h"

namespace muster::collector::admin {
namespace {

namespace json = boost::json;

constexpr std::size_t max_note = 4096;

incidents::incident_store& incident_store_of(env& e) {
    if (!e.incidents) {
        fail(http::status::not_implemented, "not_implemented",
             "this collector has no incident engine");
    }
    return *e.incidents;
}

json::object incident_or_404(env& e, std::int64_t id, bool with_events, std::int64_t now) {
    auto item = e.queries.incident(id, with_events, now);
    if (!item) fail(http::status::not_found, "not_found", "no incident " + std::to_string(id));
    return *item;
}

void check_lifecycle(const incidents::lifecycle_result& result, std::int64_t id) {
    switch (result.outcome) {
        case incidents::lifecycle_outcome::done:
            return;
        case incidents::lifecycle_outcome::not_found:
            fail(http::status::not_found, "not_found", "no incident " + std::to_string(id));
        case incidents::lifecycle_outcome::not_allowed:
            break;
    }
    fail(http::status::conflict, "conflict", result.message);
}

http_response incident_action(env& e, call& c, std::string_view action) {
    auto id = path_id(c.args[0], "incident");
    c.params.finish();
    auto body = body_object(c.request);
    auto& store = incident_store_of(e);
    if (action == "comment") {
        auto text = body_text(body, "text", max_note);
        if (!text || text->empty()) throw param_error("text: a non-empty comment is needed");
        check_lifecycle(store.comment(id, c.who.name, *text, c.now), id);
    } else {
        auto note = body_text(body, "note", max_note).value_or("");
        if (action == "resolve") {
            check_lifecycle(store.resolve(id, c.who.name, note, c.now), id);
        } else if (action == "close") {
            check_lifecycle(store.close(id, c.who.name, note, c.now), id);
        } else {
            check_lifecycle(store.acknowledge(id, c.who.name, c.now), id);
            if (!note.empty()) check_lifecycle(store.comment(id, c.who.name, note, c.now), id);
        }
    }
    get_logger("admin")->info("{} {} incident {}", c.who.name, action, id);
    return json_ok(incident_or_404(e, id, false, c.now));
}

json::array renamed_groups(const std::vector<incidents::kpi_figures>& groups,
                           std::string_view key) {
    json::array out;
    for (const auto& figures : groups) {
        auto item =
            incidents::to_json(incidents::kpi_report{0, 0, figures, {}, {}}).at("all").as_object();
        item.erase("group");
        json::object renamed{{key, figures.group}};
        for (auto& member : item) renamed.insert(member);
        out.push_back(std::move(renamed));
    }
    return out;
}

}  // namespace

// ----------------------------------------------------------------------------------------
// Incidents and problems

http_response list_incidents(env& e, call& c) {
    incident_filter filter;
    filter.state = c.params.one_of("state", {"open", "new", "acknowledged", "resolved", "closed"});
    filter.priority = c.params.one_of("priority", {"P1", "P2", "P3", "P4"});
    if (auto host = c.params.text("host")) {
        auto ids = e.queries.resolve_host(*host);
        if (ids.empty()) {
            c.params.finish();
            return page_response({}, "incidents");
        }
        filter.ci_id = resolve_host(e, *host);
    }
    filter.service = c.params.text("service");
    filter.check = c.params.text("check");
    auto request = paging(c, "incidents");
    c.params.finish();
    return page_response(e.queries.incidents(filter, request, c.now), "incidents");
}

http_response get_incident(env& e, call& c) {
    auto id = path_id(c.args[0], "incident");
    c.params.finish();
    return json_ok(incident_or_404(e, id, true, c.now));
}

http_response acknowledge_incident(env& e, call& c) {
    return incident_action(e, c, "acknowledge");
}
http_response resolve_incident(env& e, call& c) {
    return incident_action(e, c, "resolve");
}
http_response close_incident(env& e, call& c) {
    return incident_action(e, c, "close");
}
http_response comment_incident(env& e, call& c) {
    return incident_action(e, c, "comment");
}

http_response list_problems(env& e, call& c) {
    auto state = c.params.one_of("state", {"open", "closed"});
    auto request = paging(c, "problems");
    c.params.finish();
    return page_response(e.queries.problems(state, request), "problems");
}

http_response sla_report(env& e, call& c) {
    auto since = c.params.time("since", c.now).value_or(c.now - 30 * 86400);
    auto until = c.params.time("until", c.now).value_or(c.now);
    c.params.finish();
    if (since > until) throw param_error("since: must not be after until");
    auto report = incident_store_of(e).kpis(since, until);
    json::object body{{"since", report.since}, {"until", report.until}};
    auto all = renamed_groups({report.all}, "group");
    body["all"] = all.front();
    body["by_priority"] = renamed_groups(report.by_priority, "priority");
    body["by_service"] = renamed_groups(report.by_service, "service");
    return json_ok(body);
}

}  // namespace muster::collector::admin
