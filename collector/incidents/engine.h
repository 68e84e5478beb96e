#pragma once
// The incident engine on SQLite (docs/incidents.md; contract C2): applies the decisions of
// rules.h to the database, on the writer connection, inside the caller's transaction, so a
// report's incidents, events and notifications commit or roll back with the report.
//
// Error policy: storage layer. record_report reads the report's checks first and throws
// std::invalid_argument naming the bad member before writing anything (ingest answers
// malformed); database failures throw sqlite_error.
#include "collector/incidents/settings.h"
#include "collector/statement_cache.h"

#include <boost/json.hpp>

#include <cstdint>
#include <string>

namespace muster::collector::incidents {

// After a report of this CI was applied: remembers its expected_interval, resolves its
// "host not reporting" incident, and evaluates each check result in order.
void record_report(statement_cache& sql, const incident_settings& settings, std::int64_t ci_id,
                   const boost::json::object& document, std::int64_t now);

// The periodic part: opens "host not reporting" incidents for silent CIs, sets SLA breach
// flags, and releases the held notifications of checks that stopped flapping. Silence is
// counted from watching_since at the earliest (when this collector started sweeping): while
// the collector itself was away, no host could report, and a restart must not open an
// incident for every host before their spooled reports come in.
void sweep(statement_cache& sql, const incident_settings& settings, std::int64_t now,
           std::int64_t watching_since);

// Manual resolution, shared with the admin lifecycle (sqlite_incidents.h).
void resolve_incident(statement_cache& sql, std::int64_t id, const std::string& actor,
                      const std::string& note, std::int64_t now);

}  // namespace muster::collector::incidents
