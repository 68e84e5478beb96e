#include "collector/routes.h"

#include "common/crypto.h"
#include "common/logging.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <variant>

namespace muster::collector {
namespace {

constexpr std::string_view agent_id_header = "X-Muster-Agent-Id";
constexpr std::string_view signature_header = "X-Muster-Signature";

// A header value from the network, made safe for a log line: printable ASCII, bounded.
std::string printable(std::string_view text) {
    std::string out;
    for (char c : text.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
}

refusal malformed(std::string message) {
    return {http::status::bad_request, "malformed", std::move(message)};
}

// Not an internal error: nothing is lost (the agent keeps the report and retries), and the
// operator has one thing to do, free space for the database.
refusal storage_full() {
    return {http::status::service_unavailable, "storage_full",
            "the collector's storage is full: nothing was stored; retry later",
            std::chrono::seconds(30)};
}

std::string string_member(const boost::json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    return value && value->is_string() ? std::string(value->get_string()) : std::string();
}

http_response from_ingest(const ingest_result& result) {
    switch (result.status) {
        case ingest_status::ok:
            return json_response(http::status::ok, result.ack);
        case ingest_status::resync:
            return to_response({http::status::conflict, "resync", result.message});
        case ingest_status::replay:
            return to_response({http::status::conflict, "replay", result.message});
        case ingest_status::unknown_agent:
            return to_response({http::status::unauthorized, "unknown_agent", result.message});
        case ingest_status::revoked:
            return to_response({http::status::forbidden, "revoked", result.message});
        case ingest_status::pending:
            return to_response({http::status::forbidden, "pending", result.message});
        case ingest_status::malformed:
            break;
    }
    return to_response(malformed(result.message));
}

}  // namespace

api_settings api_settings_from(const collector_config& config) {
    api_settings settings;
    settings.enrollment = config.enrollment;
    settings.enrollment_token_sha256 = config.enrollment_token_sha256;
    settings.reports.max_decompressed = config.limits.max_decompressed;
    settings.reports.clock_skew = config.clock_skew;
    return settings;
}

api_handler::api_handler(cmdb_store& store, ingest_writer& writer, rate_limiter& limiter,
                         api_settings settings, clock_function now)
    : store_(store),
      writer_(writer),
      limiter_(limiter),
      settings_(std::move(settings)),
      now_(std::move(now)) {}

boost::asio::awaitable<http_response> api_handler::handle(const http_request& request,
                                                          std::string peer) {
    bool full = false;
    try {
        co_return co_await route(request, peer);
    } catch (const std::exception& e) {
        get_logger("api")->error("{} {} from {} failed: {}", request.method_string(),
                                 printable(request.target()), peer, e.what());
        full = storage_full_error(e);
    }
    if (full) co_return to_response(storage_full());
    co_return error_response(http::status::internal_server_error, "internal",
                             "the collector failed to handle the request; retry later");
}

boost::asio::awaitable<http_response> api_handler::route(const http_request& request,
                                                         const std::string& peer) {
    std::string_view target = request.target();
    auto only = [&](http::verb verb) -> std::optional<refusal> {
        if (request.method() == verb) return std::nullopt;
        return refusal{http::status::method_not_allowed, "method_not_allowed",
                       std::string(target) + " accepts only " + std::string(http::to_string(verb))};
    };
    if (target == "/healthz") {
        if (auto wrong = only(http::verb::get)) co_return refuse(*wrong, request, peer);
        co_return json_response(http::status::ok, R"({"status":"ok"})");
    }
    if (target == "/api/v1/enroll") {
        if (auto wrong = only(http::verb::post)) co_return refuse(*wrong, request, peer);
        co_return enroll(request, peer);
    }
    if (target == "/api/v1/reports") {
        if (auto wrong = only(http::verb::post)) co_return refuse(*wrong, request, peer);
        co_return co_await report(request, peer);
    }
    std::string_view path = target.substr(0, target.find('?'));
    if (admin_ && (path.starts_with("/api/v1/") || path == "/metrics"))
        co_return co_await run_admin(request);
    co_return refuse({http::status::not_found, "not_found", "no such endpoint"}, request, peer);
}

boost::asio::awaitable<http_response> api_handler::run_admin(const http_request& request) {
    // The caller waits, so request outlives the call; an exception comes back through
    // use_awaitable and is answered 500 by handle().
    co_return co_await boost::asio::co_spawn(
        admin_pool_,
        [this, &request]() -> boost::asio::awaitable<http_response> { co_return admin_(request); },
        boost::asio::use_awaitable);
}

bool api_handler::token_accepted(std::string_view token) const {
    std::string presented = sha256_hex(token);
    bool accepted = false;
    // Every configured hash is compared, so the time taken says nothing about which matched.
    for (const auto& hash : settings_.enrollment_token_sha256) {
        accepted |= constant_time_equal(presented, hash);
    }
    return accepted;
}

http_response api_handler::enroll(const http_request& request, const std::string& peer) {
    boost::system::error_code ec;
    auto parsed = boost::json::parse(request.body(), ec);
    if (ec || !parsed.is_object()) {
        return refuse(malformed("the enrollment request is not a JSON object"), request, peer);
    }
    const auto& body = parsed.as_object();
    if (!token_accepted(string_member(body, "token"))) {
        return refuse(
            {http::status::unauthorized, "bad_token", "the enrollment token is wrong or revoked"},
            request, peer);
    }
    auto key = base64_decode(string_member(body, "public_key"));
    if (!key || key->size() != ed25519_key::public_size) {
        return refuse(malformed("'public_key' must be the Base64 of a 32-byte Ed25519 key"),
                      request, peer);
    }
    enrollment facts;
    facts.public_key = std::move(*key);
    if (const auto* f = body.if_contains("facts"); f && f->is_object()) {
        facts.hostname = string_member(f->get_object(), "hostname");
        facts.machine_id = string_member(f->get_object(), "machine_id");
        facts.product_uuid = string_member(f->get_object(), "product_uuid");
        facts.serial = string_member(f->get_object(), "serial");
    }
    bool auto_approve = settings_.enrollment == enrollment_mode::auto_approve;
    agent_record agent = store_.enroll_agent(facts, auto_approve, now_());
    if (agent.status == agent_status::revoked) {
        return refuse({http::status::forbidden, "revoked", "this key belongs to a revoked agent"},
                      request, peer, agent.agent_id);
    }
    bool active = agent.status == agent_status::active;
    get_logger("api")->info("enrolled agent {} ({}) from {}", agent.agent_id,
                            to_string(agent.status), peer);
    boost::json::object answer{{"agent_id", agent.agent_id}, {"status", to_string(agent.status)}};
    return json_response(active ? http::status::ok : http::status::accepted,
                         boost::json::serialize(answer));
}

std::optional<refusal> api_handler::authenticate(const http_request& request,
                                                 const std::string& agent_id) {
    auto agent = agent_id.empty() ? std::nullopt : store_.find_agent(agent_id);
    if (!agent) return refusal{http::status::unauthorized, "unknown_agent", "no such agent"};
    if (agent->status == agent_status::revoked) {
        return refusal{http::status::forbidden, "revoked", "this agent was revoked"};
    }
    if (agent->status == agent_status::pending) {
        return refusal{http::status::forbidden, "pending", "this agent is not approved yet"};
    }
    if (!signature_valid(*agent, request[signature_header], request.body())) {
        return refusal{http::status::unauthorized, "bad_signature",
                       "the report's signature does not verify with this agent's key"};
    }
    if (auto wait = limiter_.take(agent_id, rate_limiter::clock::now())) {
        return refusal{http::status::too_many_requests, "rate_limited",
                       "this agent sends too often", *wait};
    }
    return std::nullopt;
}

boost::asio::awaitable<http_response> api_handler::report(const http_request& request,
                                                          const std::string& peer) {
    if (metrics_) metrics_->report_received();
    auto started = std::chrono::steady_clock::now();
    std::string agent_id(request[agent_id_header]);
    if (auto problem = authenticate(request, agent_id)) {
        co_return refuse_report(*problem, request, peer, agent_id);
    }
    // Only now, with the body authenticated, is it decompressed and parsed.
    auto opened = open_report(agent_id, request.body(), settings_.reports, now_());
    if (auto* problem = std::get_if<refusal>(&opened)) {
        co_return refuse_report(*problem, request, peer, agent_id);
    }
    auto& verified = std::get<verified_report>(opened);
    store_.prepare(verified);  // here, so that the single writer need not
    std::int64_t seq = verified.seq;
    ingest_reply reply = co_await writer_.submit(std::move(verified));
    if (reply.outcome == ingest_reply::kind::overloaded) {
        co_return refuse_report({http::status::service_unavailable, "overloaded",
                                 "the collector's ingest queue is full", std::chrono::seconds(5)},
                                request, peer, agent_id);
    }
    if (reply.outcome == ingest_reply::kind::storage_full) {
        // No log line per report: the writer logs a full disk once per burst.
        if (metrics_) metrics_->report_refused("storage_full");
        co_return to_response(storage_full());
    }
    if (reply.outcome == ingest_reply::kind::failed) {
        co_return refuse_report({http::status::internal_server_error, "internal",
                                 "the report could not be stored; retry later"},
                                request, peer, agent_id);
    }
    if (reply.result.status != ingest_status::ok) {
        if (metrics_) metrics_->report_refused(to_string(reply.result.status));
        get_logger("api")->warn("refused report seq {} of agent {} from {}: {}", seq,
                                printable(agent_id), peer, reply.result.message);
    } else {
        if (metrics_) {
            metrics_->ingest_latency(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        }
        if (on_stored_) on_stored_();
    }
    co_return from_ingest(reply.result);
}

http_response api_handler::refuse_report(const refusal& reason, const http_request& request,
                                         const std::string& peer, std::string_view agent_id) const {
    if (metrics_) metrics_->report_refused(reason.code);
    return refuse(reason, request, peer, agent_id);
}

http_response api_handler::refuse(const refusal& reason, const http_request& request,
                                  const std::string& peer, std::string_view agent_id) const {
    get_logger("api")->warn("refused {} {} from {}{}{}: {} {}: {}", request.method_string(),
                            printable(request.target()), peer, agent_id.empty() ? "" : " agent ",
                            printable(agent_id), static_cast<int>(reason.status), reason.code,
                            reason.message);
    return to_response(reason);
}

}  // namespace muster::collector
