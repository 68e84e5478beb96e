#pragma once
// The incidents part of the CMDB storage (docs/incidents.md): reading incidents, their
// events, problems and KPIs, and the manual lifecycle the admin API drives. The automatic
// side (opening, updating, resolving from check results; the sweep) runs inside ingest and
// cmdb_store::sweep_incidents. cmdb_store::incidents() gives this interface.
//
// Error policy: as the storage layer (store.h): database failures throw sqlite_error;
// expected outcomes (no such incident, a transition the state does not allow) are values.
#include "collector/incidents/kpis.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace muster::collector::incidents {

struct incident_record {
    std::int64_t id = 0;
    std::int64_t ci_id = 0;
    std::string host;  // the CI's hostname when the incident was read
    std::string check_id;
    std::string check_type;
    std::string title;
    std::string state;  // new, acknowledged, resolved, closed
    int priority = lowest_priority;
    std::string impact;   // high, medium, low
    std::string urgency;  // high, medium, low
    std::optional<std::string> service;
    std::optional<std::string> owner;
    std::string status;  // the check's last not-ok status
    std::string message;
    std::optional<double> value;
    std::string unit;
    std::int64_t count = 0;  // not-ok results seen
    std::int64_t opened_at = 0;
    std::int64_t updated_at = 0;
    std::int64_t last_seen = 0;  // the last not-ok result
    std::optional<std::int64_t> acknowledged_at;
    std::optional<std::int64_t> resolved_at;
    std::optional<std::int64_t> closed_at;
    std::int64_t response_due = 0;
    std::int64_t resolution_due = 0;
    bool response_breached = false;  // as of the time the record was read
    bool resolution_breached = false;
    bool flapping = false;
    bool notifications_held = false;
    std::optional<std::int64_t> problem_id;
    int reopened_count = 0;
};

struct incident_event {
    std::int64_t incident_id = 0;
    std::int64_t time = 0;
    std::string actor;  // "system" or the user who acted
    std::string kind;   // opened, updated, acknowledged, resolved, reopened, closed, comment,
                        // flapping, priority
    std::string note;
};

struct problem_record {
    std::int64_t id = 0;
    std::int64_t ci_id = 0;
    std::string check_id;
    std::string title;
    std::string state;  // open, closed
    std::int64_t opened_at = 0;
    std::optional<std::int64_t> closed_at;
    std::vector<std::int64_t> incident_ids;
};

struct incident_query {
    std::vector<std::string> states;  // empty: every state
    std::optional<std::int64_t> ci_id;
    std::optional<std::string> check_id;
    std::size_t limit = 100;  // newest first
};

enum class lifecycle_outcome {
    done,
    not_found,
    not_allowed,  // the incident's state does not allow it (message says why)
};

struct lifecycle_result {
    lifecycle_outcome outcome = lifecycle_outcome::done;
    std::string message;
};

class incident_store {
  public:
    virtual ~incident_store() = default;

    // Breach flags are judged as of now.
    virtual std::vector<incident_record> list_incidents(const incident_query& query,
                                                        std::int64_t now) = 0;
    virtual std::optional<incident_record> get_incident(std::int64_t id, std::int64_t now) = 0;
    virtual std::vector<incident_event> incident_events(std::int64_t id) = 0;
    virtual std::vector<problem_record> list_problems(bool open_only) = 0;

    // new -> acknowledged; enqueues the acknowledge notification.
    virtual lifecycle_result acknowledge(std::int64_t id, const std::string& actor,
                                         std::int64_t now) = 0;
    // new or acknowledged -> resolved; enqueues the resolve notification.
    virtual lifecycle_result resolve(std::int64_t id, const std::string& actor,
                                     const std::string& note, std::int64_t now) = 0;
    // Any state.
    virtual lifecycle_result comment(std::int64_t id, const std::string& actor,
                                     const std::string& text, std::int64_t now) = 0;
    // resolved -> closed: final, a later failure opens a new incident.
    virtual lifecycle_result close(std::int64_t id, const std::string& actor,
                                   const std::string& note, std::int64_t now) = 0;

    // Incidents opened in [since, until), judged as of until.
    virtual kpi_report kpis(std::int64_t since, std::int64_t until) = 0;
};

}  // namespace muster::collector::incidents
