#pragma once
// The two calls of the collector API (docs/protocol.md) and what each answer means for the
// agent. Pure mapping from HTTP outcome to verdict, so the meaning of every status code is
// in one place.
#include "agent/wire/https_client.h"
#include "agent/wire/spool.h"
#include "common/crypto.h"

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace muster::agent::wire {

enum class enroll_status {
    active,     // 200: agent_id is set
    pending,    // 202: an admin must approve; ask again later
    bad_token,  // 401: the token is wrong or revoked
    revoked,    // 403: this key belongs to a revoked agent
    untrusted,  // the collector's certificate is not trusted
    failed,     // network, server error or an unexpected answer: try again later
};

struct enroll_result {
    enroll_status status = enroll_status::failed;
    std::string agent_id;
    std::string message;  // one line for the log
    std::optional<std::chrono::seconds> retry_after;
};

// facts: {hostname, machine_id, product_uuid, serial}, each a string or null.
enroll_result enroll(https_client& client, const std::string& token, const ed25519_key& key,
                     const boost::json::object& facts);

// What an answer to the enrollment means: the part of enroll() after the request.
enroll_result enroll_result_of(const http_response& response);

// The identity facts of an inventory document.
boost::json::object identity_facts(const boost::json::object& inventory);

enum class report_verdict {
    acked,          // 200 for this seq: delete from the spool
    resync,         // 409 resync: the collector lacks our base state; send full
    replay,         // 409 replay: this seq was applied with other content; send full
    rejected,       // 400 malformed, 413, 401 bad_signature, other 4xx: drop it, send full
    unknown_agent,  // 401 unknown_agent: enroll again
    revoked,        // 403 revoked: stop sending
    retry,          // 403 pending, 429, 5xx, network, timeout: same bytes later
    clock_skew,     // 400 clock_skew: sent_at is ahead of the collector's clock
    untrusted,      // the certificate is not trusted: nothing was sent; retry later
    cancelled,      // the agent is stopping
};

struct report_result {
    report_verdict verdict = report_verdict::retry;
    std::string message;  // one line for the log
    std::optional<std::chrono::seconds> retry_after;
};

report_result post_report(https_client& client, const std::string& agent_id,
                          const report_entry& entry);

// What an answer to the report of this seq means: the part of post_report() after the request.
report_result report_result_of(const http_response& response, std::uint64_t seq);

// The error code of an error body {"error": {"code": …, "message": …}}, "" when absent.
std::string error_code_of(const std::string& body, std::string* message = nullptr);

}  // namespace muster::agent::wire
