#include "collector/admin/handlers.h"

#include "collector/admin/sql_console.h"
#include "common/crypto.h"
#include "common/logging.h"

#include <algorithm>

namespace muster::collector::admin {
namespace {

namespace json = boost::json;

http_response set_agent(env& e, call& c, agent_status status) {
    c.params.finish();
    const auto& agent_id = c.args[0];
    if (!e.store.set_agent_status(agent_id, status)) {
        fail(http::status::not_found, "not_found", "no agent '" + printable(agent_id) + "'");
    }
    get_logger("admin")->info("{} set agent {} to {}", c.who.name, printable(agent_id),
                              to_string(status));
    auto item = e.queries.agent(agent_id);
    if (!item) fail(http::status::not_found, "not_found", "no agent '" + printable(agent_id) + "'");
    return json_ok(*item);
}

}  // namespace

// ----------------------------------------------------------------------------------------
// Agents, services, tokens, SQL, metrics

http_response list_agents(env& e, call& c) {
    auto status = c.params.one_of("status", {"pending", "active", "revoked"});
    auto request = paging(c, "agents");
    c.params.finish();
    return page_response(e.queries.agents(status, request), "agents");
}

http_response approve_agent(env& e, call& c) {
    return set_agent(e, c, agent_status::active);
}
http_response revoke_agent(env& e, call& c) {
    return set_agent(e, c, agent_status::revoked);
}

http_response list_services(env& e, call& c) {
    c.params.finish();
    return json_ok(json::object{{"items", e.queries.services()}, {"next_cursor", nullptr}});
}

http_response list_tokens(env& e, call& c) {
    auto request = paging(c, "tokens");
    c.params.finish();
    return page_response(e.queries.tokens(request), "tokens");
}

http_response create_token(env& e, call& c) {
    c.params.finish();
    auto body = body_object(c.request);
    auto name = body_text(body, "name", 100);
    bool bad_name = !name || name->empty() || std::any_of(name->begin(), name->end(), [](char ch) {
        return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f;
    });
    if (bad_name) throw param_error("name: 1 to 100 bytes, no control characters");
    auto role_text = body_text(body, "role", 16);
    auto token_role = role_text ? role_from_string(*role_text) : std::nullopt;
    if (!token_role) throw param_error("role: expected one of viewer, operator, admin");
    auto token = random_token(32);
    auto id = e.tokens.create_token(*name, *token_role, sha256_hex(token), c.now);
    get_logger("admin")->info("{} created {} token {} ({})", c.who.name, to_string(*token_role), id,
                              printable(*name));
    auto item = e.queries.token(id);
    if (!item) fail(http::status::internal_server_error, "internal", "the new token was not found");
    (*item)["token"] = token;
    return json_ok(*item, http::status::created);
}

http_response revoke_token(env& e, call& c) {
    auto id = path_id(c.args[0], "token");
    c.params.finish();
    bool revoked = e.tokens.revoke_token(id, c.now);
    auto item = e.queries.token(id);
    if (!item) fail(http::status::not_found, "not_found", "no token " + std::to_string(id));
    if (!revoked)
        fail(http::status::conflict, "conflict",
             "token " + std::to_string(id) + " was already revoked");
    get_logger("admin")->info("{} revoked token {}", c.who.name, id);
    return json_ok(*item);
}

http_response run_query(env& e, call& c) {
    c.params.finish();
    auto body = body_object(c.request);
    auto sql = body_text(body, "sql", 1 << 20);  // docs/api.md: at most 1 MiB
    if (!sql || sql->empty()) throw param_error("sql: a SELECT statement is needed");
    query_limits limits;
    limits.time = e.settings.query_time;
    limits.max_rows = e.settings.query_rows;
    auto outcome = run_readonly_query(e.settings.database, *sql, limits);
    if (outcome.ok) return json_ok(outcome.result);
    auto status = outcome.code == "internal" ? http::status::internal_server_error
                                             : http::status::bad_request;
    fail(status, outcome.code, outcome.message);
}

http_response metrics(env& e, call& c) {
    c.params.finish();
    if (!e.metrics) fail(http::status::not_implemented, "not_implemented", "no metrics yet");
    http_response response{http::status::ok, 11};
    response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    response.set(http::field::cache_control, "no-store");
    response.body() = e.metrics();
    response.prepare_payload();
    return response;
}

}  // namespace muster::collector::admin
