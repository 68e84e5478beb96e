#pragma once
// The collector's periodic housekeeping (issue 5): marks silent CIs stale and then retired,
// prunes change history past its retention, and sweeps incidents (silent hosts, SLA breaches,
// held notifications). Runs on its own thread so a slow step never holds up request handling;
// the store serializes it with ingest.
//
// Pruning runs in small steps (prune_step rows per call), releasing the store between steps,
// so ingest waits at most one small step (issue 5: "pruning never blocks ingest").
//
// Error policy: reading settings throws config_error (common/config.h). A failing run (a
// store exception) is logged and the task tries again at the next interval; it never stops
// the collector.
#include "collector/store.h"
#include "common/config.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace muster::collector {

struct maintenance_settings {
    std::chrono::seconds history_retention{std::chrono::hours(24 * 400)};
    std::chrono::seconds stale_after{std::chrono::hours(24 * 3)};
    std::chrono::seconds retire_after{std::chrono::hours(24 * 30)};
    std::chrono::milliseconds interval{std::chrono::seconds(60)};
    std::size_t prune_step = 1000;
};

// Reads the `history:`, `staleness:` and `maintenance:` mappings of collector.yaml.
maintenance_settings read_maintenance_settings(config_map& root);

struct maintenance_outcome {
    std::size_t state_changes = 0;   // CIs that became stale or retired
    std::size_t history_pruned = 0;  // change records deleted
};

// One run: staleness, history pruning (step by step), incident sweep. Logs what changed.
// stop_requested, when given, is asked between pruning steps so shutdown is not held up.
maintenance_outcome run_maintenance(cmdb_store& store, const maintenance_settings& settings,
                                    std::int64_t now,
                                    const std::function<bool()>& stop_requested = {});

// Calls run_maintenance at once and then every settings.interval until stop().
class maintenance_task {
  public:
    using clock_function = std::function<std::int64_t()>;  // Unix seconds

    maintenance_task(cmdb_store& store, maintenance_settings settings, clock_function now);
    ~maintenance_task();
    maintenance_task(const maintenance_task&) = delete;
    maintenance_task& operator=(const maintenance_task&) = delete;

    void start();
    // Finishes the step in progress, then joins the thread. Idempotent.
    void stop();
    // Completed runs so far (tests wait on it instead of sleeping).
    std::size_t runs() const;

  private:
    void loop();

    cmdb_store& store_;
    maintenance_settings settings_;
    clock_function now_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::size_t runs_ = 0;
    std::thread thread_;
};

}  // namespace muster::collector
