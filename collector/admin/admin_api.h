#pragma once
// The admin REST API (docs/api.md): request in, response out, no socket. Routes every
// /api/v1/* path but enroll and reports (collector/routes.h handles those and hands the rest
// here), and /metrics.
//
//   authentication  Bearer tokens: admin.token_sha256 of collector.yaml (role admin, actor
//                   "admin") and tokens kept in the CMDB (api_tokens, made with POST
//                   /api/v1/tokens). Only SHA-256 hashes are kept; hashes are compared in
//                   constant time; a token is never logged.
//   order of checks no or unknown token 401, unknown path 404, wrong method 405, role too low
//                   403, bad parameter or body 400.
//   reads           admin_queries (queries.h), on read-only connections of their own.
//   writes          agents through cmdb_store::set_agent_status, incidents through the
//                   incident store, tokens through token_writer.
//
// Error policy: every refusal is the error shape of docs/api.md; handle() never throws (a
// database failure is a 500 "internal" and one log line, never with a token in it).
#include "collector/admin/queries.h"
#include "collector/config.h"
#include "collector/http_types.h"
#include "collector/store.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace muster::collector::incidents {
class incident_store;
}

namespace muster::collector::admin {

struct admin_settings {
    std::vector<std::string> admin_token_sha256;  // lowercase hex, from collector.yaml
    std::filesystem::path database;               // for the SQL console's own connection
    std::chrono::milliseconds query_time{5000};   // SQL console limits
    std::size_t query_rows = 10'000;
};

admin_settings admin_settings_from(const collector_config& config);

class admin_api {
  public:
    using clock_function = std::function<std::int64_t()>;   // Unix seconds
    using metrics_function = std::function<std::string()>;  // the Prometheus text

    // incidents may be null (no incident actions: 501); metrics may be empty (501).
    admin_api(admin_queries& queries, token_writer& tokens, cmdb_store& store,
              incidents::incident_store* incidents, admin_settings settings, clock_function now,
              metrics_function metrics = {});

    http_response handle(const http_request& request);

  private:
    http_response route(const http_request& request);

    admin_queries& queries_;
    token_writer& tokens_;
    cmdb_store& store_;
    incidents::incident_store* incidents_;
    admin_settings settings_;
    clock_function now_;
    metrics_function metrics_;
};

}  // namespace muster::collector::admin
