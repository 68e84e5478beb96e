#pragma once
// incident_store on the SQLite CMDB. It does not own connections: the store lends its
// writer (for the lifecycle, serialized with ingest by the writer's mutex) and its reader
// (for listings, which never wait for a batch being written), each with its mutex.
//
// Error policy: storage layer (incident_store.h).
#include "collector/incidents/incident_store.h"
#include "collector/incidents/settings.h"
#include "collector/statement_cache.h"

#include <mutex>

namespace muster::collector::incidents {

struct locked_connection {
    std::mutex& mutex;
    statement_cache& sql;
};

class sqlite_incidents final : public incident_store {
  public:
    sqlite_incidents(locked_connection writer, locked_connection reader,
                     const incident_settings& settings)
        : writer_(writer), reader_(reader), settings_(settings) {}

    std::vector<incident_record> list_incidents(const incident_query& query,
                                                std::int64_t now) override;
    std::optional<incident_record> get_incident(std::int64_t id, std::int64_t now) override;
    std::vector<incident_event> incident_events(std::int64_t id) override;
    std::vector<problem_record> list_problems(bool open_only) override;
    lifecycle_result acknowledge(std::int64_t id, const std::string& actor,
                                 std::int64_t now) override;
    lifecycle_result resolve(std::int64_t id, const std::string& actor, const std::string& note,
                             std::int64_t now) override;
    lifecycle_result comment(std::int64_t id, const std::string& actor, const std::string& text,
                             std::int64_t now) override;
    lifecycle_result close(std::int64_t id, const std::string& actor, const std::string& note,
                           std::int64_t now) override;
    kpi_report kpis(std::int64_t since, std::int64_t until) override;

    // The periodic sweep (cmdb_store::sweep_incidents), in its own transaction. The first
    // call's time starts the count of silence (engine.h, sweep).
    void sweep(std::int64_t now);

  private:
    // Runs change(incident) in a write transaction when the incident exists and its state
    // allows it.
    template <class Change>
    lifecycle_result transition(std::int64_t id, const std::string& actor, Change change);

    locked_connection writer_;
    locked_connection reader_;
    const incident_settings& settings_;
    std::optional<std::int64_t> watching_since_;  // guarded by the writer's mutex
};

}  // namespace muster::collector::incidents
