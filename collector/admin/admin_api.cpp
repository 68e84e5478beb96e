#include "collector/admin/admin_api.h"

#include "collector/admin/handlers.h"
#include "collector/admin/request_params.h"
#include "common/crypto.h"
#include "common/logging.h"
#include "common/sqlite.h"

#include <algorithm>
#include <cctype>

namespace muster::collector::admin {
namespace {

constexpr std::int64_t touch_every_seconds = 60;
constexpr std::size_t max_token_text = 512;

// ----------------------------------------------------------------------------------------
// The route table.

struct route {
    http::verb method;
    std::string_view pattern;  // segments; "{}" takes any one segment
    role minimum;
    handler run;
};

const route routes[] = {
    {http::verb::get, "api/v1/hosts", role::viewer, list_hosts},
    {http::verb::get, "api/v1/hosts/{}", role::viewer, get_host},
    {http::verb::get, "api/v1/hosts/{}/history", role::viewer, host_history},
    {http::verb::get, "api/v1/hosts/{}/incidents", role::viewer, host_incidents},
    {http::verb::get, "api/v1/software", role::viewer, list_software},
    {http::verb::get, "api/v1/software/{}", role::viewer, get_software},
    {http::verb::get, "api/v1/incidents", role::viewer, list_incidents},
    {http::verb::get, "api/v1/incidents/{}", role::viewer, get_incident},
    {http::verb::post, "api/v1/incidents/{}/acknowledge", role::operator_, acknowledge_incident},
    {http::verb::post, "api/v1/incidents/{}/resolve", role::operator_, resolve_incident},
    {http::verb::post, "api/v1/incidents/{}/comment", role::operator_, comment_incident},
    {http::verb::post, "api/v1/incidents/{}/close", role::operator_, close_incident},
    {http::verb::get, "api/v1/problems", role::viewer, list_problems},
    {http::verb::get, "api/v1/reports/sla", role::viewer, sla_report},
    {http::verb::get, "api/v1/agents", role::viewer, list_agents},
    {http::verb::post, "api/v1/agents/{}/approve", role::admin, approve_agent},
    {http::verb::post, "api/v1/agents/{}/revoke", role::admin, revoke_agent},
    {http::verb::get, "api/v1/services", role::viewer, list_services},
    {http::verb::get, "api/v1/tokens", role::admin, list_tokens},
    {http::verb::post, "api/v1/tokens", role::admin, create_token},
    {http::verb::post, "api/v1/tokens/{}/revoke", role::admin, revoke_token},
    {http::verb::post, "api/v1/query", role::admin, run_query},
    {http::verb::get, "metrics", role::viewer, metrics},
};

// The {} segments when the path matches the pattern.
std::optional<std::vector<std::string>> match(std::string_view pattern,
                                              const std::vector<std::string>& segments) {
    std::vector<std::string> args;
    std::size_t index = 0;
    while (!pattern.empty()) {
        auto slash = pattern.find('/');
        auto part = pattern.substr(0, slash);
        if (index >= segments.size()) return std::nullopt;
        if (part == "{}") {
            args.push_back(segments[index]);
        } else if (part != segments[index]) {
            return std::nullopt;
        }
        ++index;
        pattern = slash == std::string_view::npos ? "" : pattern.substr(slash + 1);
    }
    if (index != segments.size()) return std::nullopt;
    return args;
}

std::string_view path_of(std::string_view target) {
    return target.substr(0, target.find('?'));
}

}  // namespace

admin_settings admin_settings_from(const collector_config& config) {
    admin_settings settings;
    settings.admin_token_sha256 = config.admin_token_sha256;
    settings.database = config.database;
    return settings;
}

admin_api::admin_api(admin_queries& queries, token_writer& tokens, cmdb_store& store,
                     incidents::incident_store* incidents, admin_settings settings,
                     clock_function now, metrics_function metrics)
    : queries_(queries),
      tokens_(tokens),
      store_(store),
      incidents_(incidents),
      settings_(std::move(settings)),
      now_(std::move(now)),
      metrics_(std::move(metrics)) {}

http_response admin_api::handle(const http_request& request) {
    auto log = get_logger("admin");
    auto path = printable(path_of(request.target()));
    try {
        return route(request);
    } catch (const api_error& refusal) {
        log->warn("refused {} {}: {} {}", request.method_string(), path,
                  static_cast<int>(refusal.status), refusal.message);
        return error_response(refusal.status, refusal.code, refusal.message);
    } catch (const param_error& bad) {
        return error_response(http::status::bad_request, "bad_request", bad.what());
    } catch (const invalid_key& bad) {
        return error_response(http::status::bad_request, "bad_request",
                              std::string("cursor: ") + bad.what());
    } catch (const std::exception& e) {
        log->error("{} {} failed: {}", request.method_string(), path, e.what());
    }
    return error_response(http::status::internal_server_error, "internal",
                          "the collector failed to handle the request; retry later");
}

http_response admin_api::route(const http_request& request) {
    std::int64_t now = now_();
    // Who asks comes first: nothing, not even whether a path exists, is told to a stranger.
    principal who;
    {
        std::string_view header = request[http::field::authorization];
        constexpr std::string_view scheme = "bearer ";
        bool bearer = header.size() > scheme.size() && header.size() <= max_token_text &&
                      std::equal(scheme.begin(), scheme.end(), header.begin(), [](char a, char b) {
                          return a == std::tolower(static_cast<unsigned char>(b));
                      });
        if (!bearer) fail(http::status::unauthorized, "unauthorized", "a bearer token is needed");
        auto hash = sha256_hex(header.substr(scheme.size()));
        bool admin = false;
        for (const auto& configured : settings_.admin_token_sha256) {
            admin |= constant_time_equal(hash, configured);
        }
        if (admin) {
            who = {"admin", role::admin};
        } else if (auto token = queries_.find_token(hash)) {
            who = {token->name, token->role};
            if (!token->last_used_at || *token->last_used_at <= now - touch_every_seconds) {
                try {
                    tokens_.touch_token(token->id, now);
                } catch (const sqlite_error& e) {
                    // Bookkeeping only: a busy database must not refuse the request.
                    get_logger("admin")->warn("could not record the use of token {}: {}", token->id,
                                              e.what());
                }
            }
        } else {
            fail(http::status::unauthorized, "unauthorized", "the token is unknown or revoked");
        }
    }
    auto target = parse_target(request.target());
    const struct route* found = nullptr;
    std::vector<std::string> args;
    std::string allowed;
    for (const auto& candidate : routes) {
        auto matched = match(candidate.pattern, target.segments);
        if (!matched) continue;
        allowed += (allowed.empty() ? "" : ", ") + std::string(http::to_string(candidate.method));
        if (candidate.method == request.method()) {
            found = &candidate;
            args = std::move(*matched);
        }
    }
    if (allowed.empty()) fail(http::status::not_found, "not_found", "no such endpoint");
    if (!found) {
        fail(http::status::method_not_allowed, "method_not_allowed",
             "this endpoint accepts only " + allowed);
    }
    if (who.level < found->minimum) {
        fail(http::status::forbidden, "forbidden",
             "this needs the " + std::string(to_string(found->minimum)) + " role");
    }
    env e{queries_, tokens_, store_, incidents_, settings_, metrics_};
    call c{request, std::move(who), std::move(args), params_reader(std::move(target.params)), now};
    return found->run(e, c);
}

}  // namespace muster::collector::admin
