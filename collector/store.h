#pragma once
// The CMDB storage interface. Everything the collector keeps goes through this interface,
// so that a PostgreSQL backend is one new implementation, not a rewrite. The SQLite
// implementation (the default) is sqlite_store.{h,cpp}.
//
// Error policy of the storage layer: unexpected database failures throw (sqlite_error with
// SQLite's code); expected outcomes (unknown agent, replay, resync) are values.
#include "collector/incidents/incident_store.h"

#include <boost/json.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace muster::collector {

enum class agent_status { pending, active, revoked };

std::string_view to_string(agent_status status);
std::optional<agent_status> agent_status_from_string(std::string_view text);

struct agent_record {
    std::string agent_id;
    std::string public_key;  // raw 32-byte Ed25519 public key
    agent_status status = agent_status::pending;
    std::int64_t last_seq = 0;          // last applied report sequence number, 0 = none
    std::string last_body_sha256;       // hex SHA-256 of that report's raw (gzip) body
    std::string last_ack;               // the JSON acknowledgement sent for it
    std::optional<std::int64_t> ci_id;  // the configuration item this agent reports for
};

// What an agent says about itself when it enrolls (all optional but the key).
struct enrollment {
    std::string public_key;  // raw 32 bytes
    std::string hostname;
    std::string machine_id;
    std::string product_uuid;
    std::string serial;
};

// What a storage backend works out from a report before the writer takes it (its
// cmdb_store::prepare); each backend derives its own.
struct prepared_report {
    virtual ~prepared_report() = default;
};

// A report whose signature was verified and whose body was decompressed and parsed.
struct verified_report {
    std::string agent_id;
    std::int64_t seq = 0;
    std::int64_t sent_at = 0;
    std::string body_sha256;                          // hex SHA-256 of the raw body as received
    boost::json::object document;                     // the decompressed body (protocol.md)
    std::shared_ptr<const prepared_report> prepared;  // from prepare(), or none
};

enum class ingest_status {
    ok,             // applied and committed, or an identical resend of the last report
    resync,         // delta base unknown or state hash mismatch: agent must send full
    replay,         // seq already applied with other content
    unknown_agent,  // no such agent id
    revoked,        // agent revoked
    pending,        // agent not approved yet
    malformed,      // the body does not follow protocol.md (message says what)
};

std::string_view to_string(ingest_status status);

struct ingest_result {
    ingest_status status = ingest_status::ok;
    std::string ack;      // for ok: the JSON acknowledgement body
    std::string message;  // for the others: a reason for the log and the error body
};

class cmdb_store {
  public:
    virtual ~cmdb_store() = default;

    // Agents. enroll_agent is idempotent by public key: the same key gets the same record.
    virtual std::optional<agent_record> find_agent(std::string_view agent_id) = 0;
    virtual agent_record enroll_agent(const enrollment& request, bool auto_approve,
                                      std::int64_t now) = 0;
    virtual bool set_agent_status(std::string_view agent_id, agent_status status) = 0;

    // Work on a report that needs nothing the writer has, done on the calling thread (an I/O
    // thread) so that the single writer does less; sets report.prepared when it did some.
    // Optional: ingest does whatever was not prepared. Never throws; a report it cannot
    // prepare is left as it is.
    virtual void prepare(verified_report& /*report*/) {}

    // Applies a batch of reports in ONE transaction (group commit); one result per report,
    // in order. When it returns, every ok result is durable.
    virtual std::vector<ingest_result> ingest(std::span<const verified_report> batch,
                                              std::int64_t now) = 0;

    // Marks CIs not heard from within stale_after as stale, and within retire_after as
    // retired; nothing is deleted. Returns how many changed state.
    virtual std::size_t update_staleness(std::int64_t now, std::int64_t stale_after_seconds,
                                         std::int64_t retire_after_seconds) = 0;

    // Deletes at most max_rows change records older than the cutoff; returns how many.
    // Called repeatedly in small steps so it never blocks ingest for long.
    virtual std::size_t prune_history(std::int64_t older_than, std::size_t max_rows) = 0;

    // A consistent online copy of the whole database.
    virtual void backup_to(const std::filesystem::path& destination) = 0;

    // Incidents (docs/incidents.md): opens "host not reporting" incidents for silent CIs,
    // sets SLA breach flags, releases the held notifications of checks that stopped
    // flapping. The maintenance timer calls it; reports do the rest inside ingest.
    virtual void sweep_incidents(std::int64_t now) = 0;
    // Incidents, their events, problems, KPIs and the manual lifecycle (admin API).
    virtual incidents::incident_store& incidents() = 0;
};

}  // namespace muster::collector
