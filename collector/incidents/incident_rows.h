#pragma once
// Reading and writing incident rows, shared by the engine (engine.h) and the incident store
// (sqlite_incidents.h): the incident as a record, its events, its notifications.
//
// Error policy: storage layer; sqlite_error on database failures.
#include "collector/incidents/incident_store.h"
#include "collector/statement_cache.h"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace muster::collector::incidents {

// The stored breach flags, not judged as of any time (see with_breaches).
std::optional<incident_record> load_incident(statement_cache& sql, std::int64_t id);
std::vector<incident_record> load_incidents(statement_cache& sql, const incident_query& query);

// The record's breach flags as of now: stored, or due and unmet.
incident_record with_breaches(incident_record record, std::int64_t now);

void add_event(statement_cache& sql, std::int64_t incident_id, std::int64_t time,
               std::string_view actor, std::string_view kind, std::string_view note);

// Enqueues a notification (contract C3) unless the incident's notifications are held.
void notify(statement_cache& sql, std::int64_t incident_id, std::string_view event,
            std::int64_t now);

// The "incident" object of a notification payload, exactly as contract C3.
boost::json::object payload_incident(const incident_record& incident);
// The whole record, for the admin API.
boost::json::object to_json(const incident_record& incident);
boost::json::object to_json(const incident_event& event);
boost::json::object to_json(const problem_record& problem);

std::string dedup_key(std::int64_t incident_id);  // "muster-incident-<id>"

}  // namespace muster::collector::incidents
