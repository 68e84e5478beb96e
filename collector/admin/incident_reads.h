#pragma once
// The incidents side of the admin read queries (queries.h): lists with keyset paging and the
// filters of docs/api.md, on the tables of the incidents migration (collector/incidents/
// schema.h). Records are read and rendered by the incident engine's own functions
// (incidents/incident_rows.h), so the API shows exactly what the engine stored.
//
// Error policy: storage layer (sqlite_error); before the incidents migration ran, the lists
// are empty and lookups find nothing.
#include "collector/admin/queries.h"
#include "collector/statement_cache.h"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace muster::collector::admin {

page read_incidents(statement_cache& sql, const incident_filter& filter,
                    const page_request& request, std::int64_t now);
std::optional<boost::json::object> read_incident(statement_cache& sql, std::int64_t id,
                                                 bool with_events, std::int64_t now);
page read_problems(statement_cache& sql, const std::optional<std::string>& state,
                   const page_request& request);

}  // namespace muster::collector::admin
