// The admin REST API (docs/api.md) through its request handler on a real SQLite CMDB: every
// route with no token, a wrong token and each role; the error shape; tokens; agents; the
// incident lifecycle as an operator works it.
#include "collector/routes.h"
#include "unit/collector/admin_test_support.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <set>

namespace {

using namespace muster;
using namespace muster::test;
namespace json = boost::json;

struct world : admin_fixture {
    world() {
        web_agent = add_host({"web-1", 1}, json::array{check_result("root-disk", "critical", now)});
        add_host({"db-1", 2, "debian", "Debian GNU/Linux 12 (bookworm)", {"db"}});
        spare_agent = store->enroll_agent(enrollment_for("spare"), false, now).agent_id;
        auto incidents = get("/api/v1/incidents").at("items").as_array();
        REQUIRE(incidents.size() == 1);
        incident_id = incidents[0].at("id").as_int64();
    }
    std::string web_agent;
    std::string spare_agent;
    std::int64_t incident_id = 0;
};

enum class who { nobody, wrong, viewer, operator_, admin_config, admin_cmdb };

std::string_view token_of(who caller) {
    switch (caller) {
        case who::nobody:
            return "";
        case who::wrong:
            return "not-a-token";
        case who::viewer:
            return admin_fixture::viewer_token;
        case who::operator_:
            return admin_fixture::operator_token;
        case who::admin_config:
            return admin_fixture::admin_token;
        case who::admin_cmdb:
            break;
    }
    return admin_fixture::cmdb_admin_token;
}

int rank(who caller) {
    switch (caller) {
        case who::viewer:
            return 0;
        case who::operator_:
            return 1;
        case who::admin_config:
        case who::admin_cmdb:
            return 2;
        default:
            return -1;
    }
}

void check_error_shape(const http_response& response, std::string_view code) {
    INFO(response.body());
    auto body = json::parse(response.body());
    const auto& error = body.at("error").as_object();
    CHECK(error.at("status").as_int64() == static_cast<int>(response.result()));
    CHECK(error.at("code").as_string() == code);
    CHECK(!error.at("message").as_string().empty());
    CHECK(response[http::field::content_type] == "application/json");
}

}  // namespace

TEST_CASE("every route answers 401 without a valid token, 403 below its role, else its outcome") {
    world w;
    struct route_case {
        http::verb method;
        std::string target;
        std::string body;
        int minimum;                 // 0 viewer, 1 operator, 2 admin
        std::set<unsigned> allowed;  // statuses when the role suffices
    };
    auto id = std::to_string(w.incident_id);
    auto victim = std::to_string(
        w.tokens->create_token("victim", admin::role::viewer, sha256_hex("victim-token"), w.now));
    std::vector<route_case> cases = {
        {http::verb::get, "/api/v1/hosts", "", 0, {200}},
        {http::verb::get, "/api/v1/hosts?software=openssl&version=%3C3.0.2", "", 0, {200}},
        {http::verb::get, "/api/v1/hosts/web-1", "", 0, {200}},
        {http::verb::get, "/api/v1/hosts/1/history", "", 0, {200}},
        {http::verb::get, "/api/v1/hosts/web-1/incidents", "", 0, {200}},
        {http::verb::get, "/api/v1/software", "", 0, {200}},
        {http::verb::get, "/api/v1/software/openssl", "", 0, {200}},
        {http::verb::get, "/api/v1/incidents", "", 0, {200}},
        {http::verb::get, "/api/v1/incidents/" + id, "", 0, {200}},
        {http::verb::post,
         "/api/v1/incidents/" + id + "/comment",
         R"({"text":"looking"})",
         1,
         {200}},
        // The first allowed caller acknowledges (200); later ones find it acknowledged (409).
        {http::verb::post, "/api/v1/incidents/" + id + "/acknowledge", "{}", 1, {200, 409}},
        {http::verb::post, "/api/v1/incidents/" + id + "/resolve", "{}", 1, {200, 409}},
        {http::verb::post, "/api/v1/incidents/" + id + "/close", "{}", 1, {200, 409}},
        {http::verb::get, "/api/v1/problems", "", 0, {200}},
        {http::verb::get, "/api/v1/reports/sla?since=30d", "", 0, {200}},
        {http::verb::get, "/api/v1/agents", "", 0, {200}},
        {http::verb::post, "/api/v1/agents/" + w.spare_agent + "/approve", "", 2, {200}},
        {http::verb::post, "/api/v1/agents/" + w.spare_agent + "/revoke", "", 2, {200}},
        {http::verb::get, "/api/v1/services", "", 0, {200}},
        {http::verb::get, "/api/v1/tokens", "", 2, {200}},
        {http::verb::post, "/api/v1/tokens", R"({"name":"ci","role":"viewer"})", 2, {201}},
        {http::verb::post, "/api/v1/tokens/" + victim + "/revoke", "", 2, {200, 409}},
        {http::verb::post, "/api/v1/query", R"({"sql":"SELECT count(*) FROM cis"})", 2, {200}},
        {http::verb::get, "/metrics", "", 0, {200}},
    };
    const who callers[] = {who::nobody,    who::wrong,        who::viewer,
                           who::operator_, who::admin_config, who::admin_cmdb};
    for (const auto& c : cases) {
        for (auto caller : callers) {
            auto response = w.call(c.method, c.target, token_of(caller), c.body);
            auto status = static_cast<unsigned>(response.result());
            INFO(http::to_string(c.method) << " " << c.target << " as " << static_cast<int>(caller)
                                           << " -> " << response.body());
            if (rank(caller) < 0) {
                CHECK(status == 401);
                check_error_shape(response, "unauthorized");
            } else if (rank(caller) < c.minimum) {
                CHECK(status == 403);
                check_error_shape(response, "forbidden");
            } else {
                CHECK(c.allowed.contains(status));
            }
        }
    }
    // The table revoked the victim's token: it no longer opens anything.
    CHECK(w.call(http::verb::get, "/api/v1/hosts", "victim-token").result() ==
          http::status::unauthorized);
}

TEST_CASE("unknown paths are 404, wrong methods 405, and strangers learn neither") {
    world w;
    auto missing = w.call(http::verb::get, "/api/v1/nothing-here", admin_fixture::viewer_token);
    CHECK(missing.result() == http::status::not_found);
    check_error_shape(missing, "not_found");
    auto wrong = w.call(http::verb::delete_, "/api/v1/hosts", admin_fixture::viewer_token);
    CHECK(wrong.result() == http::status::method_not_allowed);
    check_error_shape(wrong, "method_not_allowed");
    auto wrong_post = w.call(http::verb::post, "/api/v1/hosts/web-1", admin_fixture::admin_token);
    CHECK(wrong_post.result() == http::status::method_not_allowed);
    CHECK(w.call(http::verb::get, "/api/v1/nothing-here", "").result() ==
          http::status::unauthorized);
    CHECK(w.call(http::verb::get, "/api/v1/hosts/no-such-host", admin_fixture::viewer_token)
              .result() == http::status::not_found);
    CHECK(
        w.call(http::verb::get, "/api/v1/incidents/999999", admin_fixture::viewer_token).result() ==
        http::status::not_found);
    CHECK(w.call(http::verb::get, "/api/v1/software/no-such-package", admin_fixture::viewer_token)
              .result() == http::status::not_found);
    // The scheme is case-insensitive; anything but Bearer is refused.
    http_request basic{http::verb::get, "/api/v1/hosts", 11};
    basic.set(http::field::authorization, "Basic " + std::string(admin_fixture::admin_token));
    CHECK(w.api->handle(basic).result() == http::status::unauthorized);
    http_request lower{http::verb::get, "/api/v1/hosts", 11};
    lower.set(http::field::authorization, "bearer " + std::string(admin_fixture::admin_token));
    CHECK(w.api->handle(lower).result() == http::status::ok);
}

TEST_CASE("bad parameters are 400 naming the parameter") {
    world w;
    const std::pair<std::string, std::string> cases[] = {
        {"/api/v1/hosts?limit=0", "limit"},
        {"/api/v1/hosts?limit=5001", "limit"},
        {"/api/v1/hosts?limit=ten", "limit"},
        {"/api/v1/hosts?state=sleeping", "state"},
        {"/api/v1/hosts?version=%3C3.0.2", "version"},
        {"/api/v1/hosts?software=openssl&version=3.0.2", "version"},
        {"/api/v1/hosts?cursor=bm90LWEtY3Vyc29y", "cursor"},
        {"/api/v1/hosts?serach=web", "serach"},
        {"/api/v1/hosts?search=", "search"},
        {"/api/v1/hosts?search=a&search=b", "search"},
        {"/api/v1/hosts/1/history?since=yesterday", "since"},
        {"/api/v1/incidents?priority=P9", "priority"},
        {"/api/v1/incidents?state=open-ish", "state"},
        {"/api/v1/agents?status=sleeping", "status"},
        {"/api/v1/reports/sla?since=10d&until=20d", "since"},
    };
    for (const auto& [target, parameter] : cases) {
        auto response = w.call(http::verb::get, target, admin_fixture::admin_token);
        INFO(target << " -> " << response.body());
        CHECK(response.result() == http::status::bad_request);
        check_error_shape(response, "bad_request");
        auto message =
            std::string(json::parse(response.body()).at("error").at("message").as_string());
        CHECK(message.find(parameter) != std::string::npos);
    }
    // A cursor of another list is refused, not misread.
    w.add_host({"web-2", 3});
    auto agents = w.get("/api/v1/agents?limit=1").as_object();
    auto cursor = std::string(agents.at("next_cursor").as_string());
    auto response =
        w.call(http::verb::get, "/api/v1/hosts?cursor=" + cursor, admin_fixture::admin_token);
    CHECK(response.result() == http::status::bad_request);
}

TEST_CASE("tokens: created once shown, stored as a hash, listed without it, revoked for good") {
    world w;
    auto created = w.post("/api/v1/tokens", {{"name", "grafana"}, {"role", "viewer"}},
                          admin_fixture::admin_token, http::status::created)
                       .as_object();
    std::string token(created.at("token").as_string());
    CHECK(token.size() >= 40);
    CHECK(created.at("role") == "viewer");
    auto id = created.at("id").as_int64();
    CHECK(w.get("/api/v1/hosts", token).at("items").as_array().size() == 2);
    CHECK(w.call(http::verb::get, "/api/v1/tokens", token).result() == http::status::forbidden);
    auto listed = w.get("/api/v1/tokens").at("items").as_array();
    bool found = false;
    for (const auto& item : listed) {
        CHECK(!item.as_object().contains("token"));
        CHECK(!item.as_object().contains("token_sha256"));
        if (item.at("id").as_int64() == id) {
            found = true;
            CHECK(item.at("last_used_at").as_int64() == w.now);
        }
    }
    CHECK(found);
    // Only the hash is in the database.
    auto rows =
        w.post("/api/v1/query",
               {{"sql", "SELECT token_sha256 FROM api_tokens WHERE id = " + std::to_string(id)}})
            .at("rows")
            .as_array();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].as_array()[0].as_string() == sha256_hex(token));
    w.post("/api/v1/tokens/" + std::to_string(id) + "/revoke", {});
    CHECK(w.call(http::verb::get, "/api/v1/hosts", token).result() == http::status::unauthorized);
    auto again = w.call(http::verb::post, "/api/v1/tokens/" + std::to_string(id) + "/revoke",
                        admin_fixture::admin_token);
    CHECK(again.result() == http::status::conflict);
    CHECK(w.call(http::verb::post, "/api/v1/tokens/424242/revoke", admin_fixture::admin_token)
              .result() == http::status::not_found);
    for (auto bad : {R"({"name":"x","role":"root"})", R"({"role":"viewer"})", R"([1])",
                     R"({"name":"a\u0000b","role":"viewer"})", "not json"}) {
        auto response = w.call(http::verb::post, "/api/v1/tokens", admin_fixture::admin_token, bad);
        INFO(bad);
        CHECK(response.result() == http::status::bad_request);
    }
}

TEST_CASE("agents: listed by enrollment, approved and revoked by an admin") {
    world w;
    auto agents = w.get("/api/v1/agents").at("items").as_array();
    REQUIRE(agents.size() == 3);
    for (const auto& agent : agents) {
        if (agent.at("agent_id").as_string() != w.web_agent) continue;
        CHECK(agent.at("hostname") == "web-1");
        CHECK(agent.at("status") == "active");
        CHECK(agent.at("last_seq") == 1);
        CHECK(agent.at("last_report_at") == w.now);
    }
    auto pending = w.get("/api/v1/agents?status=pending").at("items").as_array();
    REQUIRE(pending.size() == 1);
    CHECK(pending[0].at("agent_id").as_string() == w.spare_agent);
    auto approved = w.post("/api/v1/agents/" + w.spare_agent + "/approve", {});
    CHECK(approved.at("status") == "active");
    CHECK(w.store->find_agent(w.spare_agent)->status == collector::agent_status::active);
    auto revoked =
        w.post("/api/v1/agents/" + w.web_agent + "/revoke", {}, admin_fixture::cmdb_admin_token);
    CHECK(revoked.at("status") == "revoked");
    CHECK(w.store->find_agent(w.web_agent)->status == collector::agent_status::revoked);
    CHECK(w.call(http::verb::post, "/api/v1/agents/nobody/approve", admin_fixture::admin_token)
              .result() == http::status::not_found);
}

TEST_CASE("services: the configured ones with their host counts") {
    world w;
    w.add_host({"web-2", 3});
    auto services = w.get("/api/v1/services").at("items").as_array();
    REQUIRE(services.size() == 2);
    CHECK(services[0].at("name") == "web");
    CHECK(services[0].at("owner") == "alice@example.org");
    CHECK(services[0].at("criticality") == "high");
    CHECK(services[0].at("hosts") == 2);
    CHECK(services[1].at("name") == "db");
    CHECK(services[1].at("owner").is_null());
    CHECK(services[1].at("hosts") == 1);
}

TEST_CASE("incidents: an operator acknowledges, comments and resolves, the actor is the token") {
    world w;
    auto id = std::to_string(w.incident_id);
    auto incident = w.get("/api/v1/incidents/" + id).as_object();
    CHECK(incident.at("host") == "web-1");
    CHECK(incident.at("check") == "root-disk");
    CHECK(incident.at("state") == "new");
    CHECK(incident.at("service") == "web");
    CHECK(incident.at("priority") == "P1");
    CHECK(w.get("/api/v1/incidents?state=open").at("items").as_array().size() == 1);
    CHECK(w.get("/api/v1/incidents?priority=P4").at("items").as_array().empty());
    CHECK(w.get("/api/v1/incidents?host=db-1").at("items").as_array().empty());
    CHECK(w.get("/api/v1/incidents?host=no-such-host").at("items").as_array().empty());
    CHECK(w.get("/api/v1/hosts/web-1/incidents").at("items").as_array().size() == 1);

    auto acknowledged = w.post("/api/v1/incidents/" + id + "/acknowledge", {{"note", "on it"}},
                               admin_fixture::operator_token);
    CHECK(acknowledged.at("state") == "acknowledged");
    w.post("/api/v1/incidents/" + id + "/comment", {{"text", "disk cleaned"}},
           admin_fixture::operator_token);
    auto empty_comment = w.call(http::verb::post, "/api/v1/incidents/" + id + "/comment",
                                admin_fixture::operator_token, R"({"text":""})");
    CHECK(empty_comment.result() == http::status::bad_request);
    auto resolved = w.post("/api/v1/incidents/" + id + "/resolve", {{"note", "fixed"}},
                           admin_fixture::operator_token);
    CHECK(resolved.at("state") == "resolved");
    auto again = w.call(http::verb::post, "/api/v1/incidents/" + id + "/acknowledge",
                        admin_fixture::operator_token, "{}");
    CHECK(again.result() == http::status::conflict);
    check_error_shape(again, "conflict");
    auto closed = w.post("/api/v1/incidents/" + id + "/close", {{"note", "root cause fixed"}},
                         admin_fixture::operator_token);
    CHECK(closed.at("state") == "closed");
    auto reclose = w.call(http::verb::post, "/api/v1/incidents/" + id + "/close",
                          admin_fixture::operator_token, "{}");
    CHECK(reclose.result() == http::status::conflict);

    auto events = w.get("/api/v1/incidents/" + id).at("events").as_array();
    std::vector<std::pair<std::string, std::string>> seen;
    for (const auto& event : events) {
        seen.emplace_back(event.at("actor").as_string(), event.at("kind").as_string());
    }
    CHECK(std::find(seen.begin(), seen.end(),
                    std::pair<std::string, std::string>{"otto", "acknowledged"}) != seen.end());
    CHECK(std::find(seen.begin(), seen.end(),
                    std::pair<std::string, std::string>{"otto", "resolved"}) != seen.end());
    CHECK(std::count(seen.begin(), seen.end(),
                     std::pair<std::string, std::string>{"otto", "comment"}) == 2);
    CHECK(w.get("/api/v1/hosts/web-1/incidents").at("items").as_array().empty());
    // Closed after it was resolved: it is in the closed state only (docs/api.md).
    CHECK(w.get("/api/v1/incidents?state=closed").at("items").as_array().size() == 1);
    CHECK(w.get("/api/v1/incidents?state=resolved").at("items").as_array().empty());

    w.now += 60;  // the period is [since, until): the incident opened a minute ago
    auto sla = w.get("/api/v1/reports/sla?since=1d").as_object();
    CHECK(sla.at("until") == w.now);
    CHECK(sla.at("since") == w.now - 86400);
    const auto& by_priority = sla.at("by_priority").as_array();
    REQUIRE(by_priority.size() == 4);
    CHECK(by_priority[0].at("priority") == "P1");
    CHECK(by_priority[0].at("incidents") == 1);
    CHECK(by_priority[0].at("resolved") == 1);
    CHECK(sla.at("by_service").as_array().at(0).at("service") == "web");
}

TEST_CASE("the SQL console and metrics answer through the same handler") {
    world w;
    auto result = w.post("/api/v1/query", {{"sql", "SELECT hostname FROM cis ORDER BY id"}});
    CHECK(result.at("rows").as_array().size() == 2);
    auto refused = w.call(http::verb::post, "/api/v1/query", admin_fixture::admin_token,
                          R"({"sql":"DELETE FROM cis"})");
    CHECK(refused.result() == http::status::bad_request);
    check_error_shape(refused, "query_refused");
    CHECK(w.get("/api/v1/hosts").at("items").as_array().size() == 2);
    auto metrics = w.call(http::verb::get, "/metrics", admin_fixture::viewer_token);
    CHECK(metrics.result() == http::status::ok);
    CHECK(metrics.body() == "muster_up 1\n");
    CHECK(std::string(metrics[http::field::content_type]).starts_with("text/plain"));
}

TEST_CASE("the collector's API hands every other /api/v1/ path and /metrics to the admin API") {
    world w;
    collector::ingest_writer writer{*w.store, {}, [&w] { return w.now; }};
    collector::rate_limiter limiter(60);
    collector::api_handler routes(*w.store, writer, limiter, {}, [&w] { return w.now; });
    routes.on_admin_request([&w](const http_request& request) { return w.api->handle(request); });
    auto call = [&](http::verb method, const std::string& target, std::string_view token) {
        http_request request{method, target, 11};
        if (!token.empty()) request.set(http::field::authorization, "Bearer " + std::string(token));
        request.prepare_payload();
        boost::asio::io_context io;
        auto result =
            boost::asio::co_spawn(io, routes.handle(request, "test-peer"), boost::asio::use_future);
        io.run();
        return result.get();
    };
    auto hosts = call(http::verb::get, "/api/v1/hosts?limit=1", admin_fixture::viewer_token);
    CHECK(hosts.result() == http::status::ok);
    CHECK(json::parse(hosts.body()).at("items").as_array().size() == 1);
    CHECK(call(http::verb::get, "/metrics", admin_fixture::viewer_token).result() ==
          http::status::ok);
    CHECK(call(http::verb::get, "/api/v1/hosts", "").result() == http::status::unauthorized);
    // The agents' endpoints stay with the collector's own routes (no bearer token there).
    auto enroll = call(http::verb::post, "/api/v1/enroll", "");
    CHECK(enroll.result() == http::status::bad_request);
    CHECK(json::parse(enroll.body()).at("error").at("code") == "malformed");
    CHECK(call(http::verb::get, "/healthz", "").result() == http::status::ok);
    CHECK(call(http::verb::get, "/elsewhere", admin_fixture::admin_token).result() ==
          http::status::not_found);
    writer.stop();
}
