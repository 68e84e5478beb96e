#pragma once
// The collector's API: request in, response out. Knows nothing of sockets or TLS (see
// http_server.h), so it is tested by co_spawning handle() in a plain io_context.
//
//   GET  /healthz          liveness
//   POST /api/v1/enroll    docs/protocol.md "Enrollment"
//   POST /api/v1/reports   docs/protocol.md "Reports"
//
// Error policy: every refusal is an error response in the shape of docs/protocol.md and one
// log line with the reason (never a token or signature). A store exception is a 500, except
// a full disk: 503 storage_full, logged once per burst by the ingest writer.
#include "collector/config.h"
#include "collector/http_types.h"
#include "collector/ingest_writer.h"
#include "collector/metrics.h"
#include "collector/rate_limiter.h"
#include "collector/report_verifier.h"
#include "collector/store.h"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <functional>
#include <string>
#include <vector>

namespace muster::collector {

struct api_settings {
    enrollment_mode enrollment = enrollment_mode::auto_approve;
    std::vector<std::string> enrollment_token_sha256;  // lowercase hex
    report_rules reports;
};

api_settings api_settings_from(const collector_config& config);

class api_handler {
  public:
    using clock_function = std::function<std::int64_t()>;  // Unix seconds

    api_handler(cmdb_store& store, ingest_writer& writer, rate_limiter& limiter,
                api_settings settings, clock_function now);

    // peer: the client's address, for log lines only.
    boost::asio::awaitable<http_response> handle(const http_request& request, std::string peer);

    // Called after each report is stored (the notifier is poked: the batch may have queued
    // notifications). Set before serving.
    void on_report_stored(std::function<void()> callback) { on_stored_ = std::move(callback); }

    // Every other /api/v1/ path and /metrics go to this handler (the admin API,
    // collector/admin/admin_api.h) when one is set. Set before serving.
    // Admin requests (docs/api.md) are synchronous and may take seconds (an SQL console
    // query, a catalogue rebuild): they run on a pool of their own, so that they never hold
    // the I/O threads that serve agents.
    using admin_function = std::function<http_response(const http_request&)>;
    void on_admin_request(admin_function handler) { admin_ = std::move(handler); }
    // Counts reports received and refused (by reason) and times their ingest.
    void count_with(collector_metrics& metrics) { metrics_ = &metrics; }

  private:
    boost::asio::awaitable<http_response> route(const http_request& request,
                                                const std::string& peer);
    http_response enroll(const http_request& request, const std::string& peer);
    boost::asio::awaitable<http_response> report(const http_request& request,
                                                 const std::string& peer);
    std::optional<refusal> authenticate(const http_request& request, const std::string& agent_id);
    bool token_accepted(std::string_view token) const;
    http_response refuse(const refusal& reason, const http_request& request,
                         const std::string& peer, std::string_view agent_id = {}) const;
    boost::asio::awaitable<http_response> run_admin(const http_request& request);
    http_response refuse_report(const refusal& reason, const http_request& request,
                                const std::string& peer, std::string_view agent_id) const;

    cmdb_store& store_;
    ingest_writer& writer_;
    rate_limiter& limiter_;
    api_settings settings_;
    clock_function now_;
    std::function<void()> on_stored_;
    admin_function admin_;
    boost::asio::thread_pool admin_pool_{2};
    collector_metrics* metrics_ = nullptr;
};

}  // namespace muster::collector
