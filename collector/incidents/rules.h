#pragma once
// The decisions of the incident engine, as pure functions over plain values with the time
// passed in, so that every rule is tested with a controllable clock (docs/incidents.md). The
// SQLite side (engine.h) loads the values, calls these and writes what they decide.
//
// Error policy: none of these fail; inputs are already validated values.
#include "collector/incidents/settings.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace muster::collector::incidents {

// What the engine remembers of one check on one CI between results.
struct check_track {
    std::optional<bool> last_ok;  // none before the first result
    int consecutive_bad = 0;
    int consecutive_ok = 0;
    std::vector<std::int64_t> changes;  // times of recent ok <-> not-ok changes, oldest first
    std::optional<std::int64_t> last_change_at;  // kept when the window has forgotten it
    bool flapping = false;
};

// The latest incident of that check on that CI, if any.
struct incident_link {
    std::int64_t id = 0;
    std::string state;  // new, acknowledged, resolved, closed
    std::optional<std::int64_t> resolved_at;
};

bool is_open_state(std::string_view state);  // new or acknowledged

enum class incident_action { none, open, update, resolve, reopen };

struct evaluation {
    check_track track;  // to store for the next result
    incident_action action = incident_action::none;
    bool flapping_started = false;
    bool flapping_ended = false;  // quiet again: release held notifications
};

// One result of a check (ok: its status is "ok"; warning, critical and unknown are not ok).
evaluation evaluate(const check_track& track, const std::optional<incident_link>& incident, bool ok,
                    const incident_settings& settings, std::int64_t now);

// Whether a flapping check has been quiet long enough (the sweep asks between results).
bool quiet_again(const check_track& track, const incident_settings& settings, std::int64_t now);

// A failure that finds this incident: reopen it (true) or open a new one (false).
bool reopens(const std::optional<incident_link>& incident, const incident_settings& settings,
             std::int64_t now);

// 1 (P1) to 4 (P4).
int priority_of(level impact, level urgency, const priority_matrix& matrix);

// What services match on.
struct ci_attributes {
    std::string hostname;
    std::vector<std::string> tags;
    std::string os_id;
    std::string os_name;
};

// The first configured service the CI belongs to (any hostname glob, tag or OS matches), or
// nullptr.
const service_definition* service_for(const ci_attributes& ci,
                                      std::span<const service_definition> services);

struct sla_due_times {
    std::int64_t response = 0;
    std::int64_t resolution = 0;
};

sla_due_times sla_due(int priority, std::int64_t opened_at, const incident_settings& settings);

// The times an SLA is judged on. The response is the first acknowledgement or, for an
// incident nobody acknowledged, its resolution.
struct sla_clock {
    std::int64_t response_due = 0;
    std::int64_t resolution_due = 0;
    std::optional<std::int64_t> acknowledged_at;
    std::optional<std::int64_t> resolved_at;
};

struct sla_breaches {
    bool response = false;
    bool resolution = false;
};

// As of now: a target is breached when it was met late, or is still unmet after its due time.
sla_breaches sla_breached(const sla_clock& clock, std::int64_t now);

// Whether the incidents of one check on one CI, by opening time, call for a problem.
bool needs_problem(std::span<const std::int64_t> opened_at, const incident_settings& settings,
                   std::int64_t now);

}  // namespace muster::collector::incidents
