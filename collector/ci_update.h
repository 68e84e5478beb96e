#pragma once
// What one applied report does to the configuration items: find or create the agent's CI
// (reconcile.h), update its normalized tables from the difference between the old and the
// new state, and record that difference as history (history.h). Runs inside ingest's
// transaction, on the writer connection.
#include "collector/agent_state.h"
#include "collector/statement_cache.h"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace muster::collector {

struct report_origin {
    std::string agent_id;
    std::int64_t agent_enrolled_at = 0;
    std::optional<std::int64_t> ci_id;  // the agent's CI before this report
    std::int64_t seq = 0;
    std::int64_t now = 0;
};

// old_sections and new_sections hold the sections the report may have changed (for a full
// report: every section of the old and the new state; for a delta: the sections it names).
// full_new_state is the whole new state of a full report, else nullptr; it is loaded from
// the stored texts when needed. delta_changes is a delta's
// changes object, already applied to old_sections with success (so it names exactly the
// rows that differ), else nullptr: the changes are then computed by diffing the sections.
// Returns the agent's CI.
std::int64_t update_ci(statement_cache& sql, const report_origin& origin,
                       const boost::json::object& old_sections,
                       const boost::json::object& new_sections, const full_state* full_new_state,
                       const boost::json::object* delta_changes);

}  // namespace muster::collector
