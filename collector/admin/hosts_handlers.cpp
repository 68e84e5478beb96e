#include "collector/admin/handlers.h"

namespace muster::collector::admin {
namespace {

namespace json = boost::json;

std::optional<version_filter> read_version(params_reader& params) {
    auto text = params.text("version");
    if (!text) return std::nullopt;
    static constexpr std::pair<std::string_view, version_op> operators[] = {
        {"<=", version_op::le}, {">=", version_op::ge}, {"==", version_op::eq},
        {"<", version_op::lt},  {">", version_op::gt},  {"=", version_op::eq}};
    for (const auto& [prefix, op] : operators) {
        if (text->starts_with(prefix) && text->size() > prefix.size()) {
            return version_filter{op, text->substr(prefix.size())};
        }
    }
    throw param_error(
        "version: expected an operator (<, <=, =, >=, >) and a version, such as <3.0.2");
}

}  // namespace

// ----------------------------------------------------------------------------------------
// Hosts and software

http_response list_hosts(env& e, call& c) {
    host_filter filter;
    filter.search = c.params.text("search");
    filter.os = c.params.text("os");
    filter.tag = c.params.text("tag");
    filter.service = c.params.text("service");
    filter.state = c.params.one_of("state", {"active", "stale", "retired"});
    filter.software = c.params.text("software");
    filter.version = read_version(c.params);
    if (filter.version && !filter.software) throw param_error("version: needs software");
    auto request = paging(c, "hosts");
    c.params.finish();
    return page_response(e.queries.hosts(filter, request), "hosts");
}

http_response get_host(env& e, call& c) {
    auto id = resolve_host(e, c.args[0]);
    c.params.finish();
    auto item = e.queries.host(id);
    if (!item) fail(http::status::not_found, "not_found", "no host '" + printable(c.args[0]) + "'");
    return json_ok(*item);
}

http_response host_history(env& e, call& c) {
    auto id = resolve_host(e, c.args[0]);
    history_filter filter;
    filter.since = c.params.time("since", c.now);
    filter.until = c.params.time("until", c.now);
    filter.section = c.params.text("section");
    auto request = paging(c, "history");
    c.params.finish();
    return page_response(e.queries.host_history(id, filter, request), "history");
}

http_response host_incidents(env& e, call& c) {
    incident_filter filter;
    filter.ci_id = resolve_host(e, c.args[0]);
    filter.state = "open";
    auto request = paging(c, "incidents");
    c.params.finish();
    return page_response(e.queries.incidents(filter, request, c.now), "incidents");
}

http_response list_software(env& e, call& c) {
    auto search = c.params.text("search");
    auto request = paging(c, "software");
    c.params.finish();
    return page_response(e.queries.software(search, request), "software");
}

http_response get_software(env& e, call& c) {
    c.params.finish();
    auto item = e.queries.software_versions(c.args[0]);
    if (!item) {
        fail(http::status::not_found, "not_found", "no package '" + printable(c.args[0]) + "'");
    }
    return json_ok(*item);
}

}  // namespace muster::collector::admin
