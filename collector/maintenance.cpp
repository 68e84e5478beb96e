#include "collector/maintenance.h"

#include "common/logging.h"

namespace muster::collector {
namespace {

using namespace std::chrono_literals;
constexpr auto day = std::chrono::hours(24);

std::chrono::seconds whole_seconds(std::chrono::milliseconds value) {
    return std::chrono::duration_cast<std::chrono::seconds>(value);
}

std::size_t prune_in_steps(cmdb_store& store, const maintenance_settings& settings,
                           std::int64_t cutoff, const std::function<bool()>& stop_requested) {
    std::size_t total = 0;
    for (;;) {
        std::size_t deleted = store.prune_history(cutoff, settings.prune_step);
        total += deleted;
        if (deleted < settings.prune_step) break;
        if (stop_requested && stop_requested()) break;
        // Lets a waiting ingest batch take the store's write lock before the next step.
        std::this_thread::yield();
    }
    return total;
}

}  // namespace

maintenance_settings read_maintenance_settings(config_map& root) {
    maintenance_settings out;
    config_map history = root.get_map("history");
    out.history_retention =
        whole_seconds(history.get_duration("retention", out.history_retention, 1h, 36500 * day));
    config_map staleness = root.get_map("staleness");
    out.stale_after =
        whole_seconds(staleness.get_duration("stale_after", out.stale_after, 1min, 3650 * day));
    out.retire_after =
        whole_seconds(staleness.get_duration("retire_after", out.retire_after, 1min, 3650 * day));
    if (out.retire_after <= out.stale_after) {
        staleness.fail("retire_after", "must be longer than stale_after");
    }
    config_map maintenance = root.get_map("maintenance");
    out.interval = maintenance.get_duration("interval", out.interval, 100ms, 24h);
    out.prune_step = static_cast<std::size_t>(
        maintenance.get_int("prune_step", static_cast<std::int64_t>(out.prune_step), 1, 1'000'000));
    return out;
}

maintenance_outcome run_maintenance(cmdb_store& store, const maintenance_settings& settings,
                                    std::int64_t now, const std::function<bool()>& stop_requested) {
    auto log = get_logger("maintenance");
    maintenance_outcome outcome;
    outcome.state_changes =
        store.update_staleness(now, settings.stale_after.count(), settings.retire_after.count());
    if (outcome.state_changes > 0) {
        log->info("{} CIs became stale or retired", outcome.state_changes);
    }
    outcome.history_pruned =
        prune_in_steps(store, settings, now - settings.history_retention.count(), stop_requested);
    if (outcome.history_pruned > 0) {
        log->info("pruned {} change records older than the retention", outcome.history_pruned);
    }
    store.sweep_incidents(now);
    return outcome;
}

maintenance_task::maintenance_task(cmdb_store& store, maintenance_settings settings,
                                   clock_function now)
    : store_(store), settings_(settings), now_(std::move(now)) {}

maintenance_task::~maintenance_task() {
    stop();
}

void maintenance_task::start() {
    thread_ = std::thread([this] { loop(); });
}

void maintenance_task::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::size_t maintenance_task::runs() const {
    std::lock_guard lock(mutex_);
    return runs_;
}

void maintenance_task::loop() {
    auto stop_requested = [this] {
        std::lock_guard lock(mutex_);
        return stopping_;
    };
    while (!stop_requested()) {
        try {
            run_maintenance(store_, settings_, now_(), stop_requested);
        } catch (const std::exception& error) {
            get_logger("maintenance")->error("maintenance run failed: {}", error.what());
        }
        std::unique_lock lock(mutex_);
        ++runs_;
        wake_.wait_for(lock, settings_.interval, [this] { return stopping_; });
    }
}

}  // namespace muster::collector
