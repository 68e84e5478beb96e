#pragma once
// The admin API's request handlers (admin_api.cpp routes to them): what a handler works
// with, the helpers they share, and one function per route, grouped by resource in
// hosts_handlers.cpp, incident_handlers.cpp and admin_handlers.cpp.
//
// Error policy: a handler answers a response or throws: api_error (any refusal, in the error
// shape of docs/api.md), param_error (400), invalid_key (400), sqlite_error (500); admin_api
// turns each into its response.
#include "collector/admin/admin_api.h"
#include "collector/admin/request_params.h"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace muster::collector::admin {

// A refusal decided deep in a handler; admin_api::handle turns it into the error shape.
struct api_error {
    http::status status;
    std::string code;
    std::string message;
};

[[noreturn]] void fail(http::status status, std::string code, std::string message);

// Text from the request, made safe for a message or a log line: printable ASCII, bounded.
std::string printable(std::string_view text);

struct principal {
    std::string name;
    role level = role::viewer;
};

struct env {
    admin_queries& queries;
    token_writer& tokens;
    cmdb_store& store;
    incidents::incident_store* incidents;
    const admin_settings& settings;
    const admin_api::metrics_function& metrics;
};

struct call {
    const http_request& request;
    principal who;
    std::vector<std::string> args;  // the {} segments of the route, in order
    params_reader params;
    std::int64_t now;
};

http_response json_ok(const boost::json::value& value, http::status status = http::status::ok);
// {"items": [...], "next_cursor": ...}
http_response page_response(const page& result, std::string_view list);
// limit and cursor of a list.
page_request paging(call& c, std::string_view list);
// A CI id or hostname to the one CI it names: 404 for none, 409 for several.
std::int64_t resolve_host(env& e, const std::string& name);
// A numeric id in the path; anything else is a 404 naming what.
std::int64_t path_id(const std::string& text, std::string_view what);
// The JSON object body of a POST (empty body: empty object).
boost::json::object body_object(const http_request& request);
std::optional<std::string> body_text(const boost::json::object& body, std::string_view name,
                                     std::size_t max_size);

using handler = http_response (*)(env&, call&);

// Hosts and software.
http_response list_hosts(env& e, call& c);
http_response get_host(env& e, call& c);
http_response host_history(env& e, call& c);
http_response host_incidents(env& e, call& c);
http_response list_software(env& e, call& c);
http_response get_software(env& e, call& c);

// Incidents, problems, SLA.
http_response list_incidents(env& e, call& c);
http_response get_incident(env& e, call& c);
http_response acknowledge_incident(env& e, call& c);
http_response resolve_incident(env& e, call& c);
http_response comment_incident(env& e, call& c);
http_response close_incident(env& e, call& c);
http_response list_problems(env& e, call& c);
http_response sla_report(env& e, call& c);

// Agents, services, tokens, SQL console, metrics.
http_response list_agents(env& e, call& c);
http_response approve_agent(env& e, call& c);
http_response revoke_agent(env& e, call& c);
http_response list_services(env& e, call& c);
http_response list_tokens(env& e, call& c);
http_response create_token(env& e, call& c);
http_response revoke_token(env& e, call& c);
http_response run_query(env& e, call& c);
http_response metrics(env& e, call& c);

}  // namespace muster::collector::admin
