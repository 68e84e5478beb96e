#include "agent/checks/runner.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>

namespace muster::agent::checks {
namespace {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::int64_t unix_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

// One run, shared by the runner and the run's thread, which may outlive the
// runner.
struct check_runner::job {
    std::mutex mutex;
    std::condition_variable finished;
    bool done = false;
    check_outcome outcome;
    std::atomic<bool> cancelled{false};
    clock::time_point started = clock::now();
    std::int64_t checked_at = unix_seconds();
    clock::time_point abandon_at;
    clock::time_point finished_at;

    void finish(check_outcome o) {
        {
            std::lock_guard lock(mutex);
            outcome = std::move(o);
            finished_at = clock::now();
            done = true;
        }
        finished.notify_all();
    }
    // Waits until the run is done or until `until`; true when done.
    bool wait_until(clock::time_point until) {
        std::unique_lock lock(mutex);
        return finished.wait_until(lock, until, [&] { return done; });
    }
    bool is_done() {
        std::lock_guard lock(mutex);
        return done;
    }
};

check_runner::check_runner(std::filesystem::path root) : root_(std::move(root)) {}

check_runner::~check_runner() {
    for (auto& [id, j] : hung_) j->cancelled = true;
}

std::shared_ptr<check_runner::job> check_runner::start(const check_config& check) {
    auto j = std::make_shared<job>();
    j->abandon_at = j->started + check.timeout + abandon_margin;
    run_context ctx;
    ctx.root = root_;
    ctx.deadline = j->started + check.timeout;
    ctx.timeout = check.timeout;
    ctx.cancelled = [j] { return j->cancelled.load(); };
    try {
        std::thread([j, run = check.run, ctx] {
            check_outcome o;
            try {
                o = run(ctx);
            } catch (const std::exception& e) {
                o = unknown(std::string("the check failed: ") + e.what());
            } catch (...) {
                o = unknown("the check failed with an unknown exception");
            }
            j->finish(std::move(o));
        }).detach();
    } catch (const std::system_error& e) {
        j->finish(unknown(std::string("cannot start a thread for the check: ") + e.what()));
    }
    return j;
}

std::vector<check_result> check_runner::run(const std::vector<const check_config*>& checks,
                                            const std::function<bool()>& should_stop) {
    std::vector<std::shared_ptr<job>> jobs;
    std::vector<check_result> results(checks.size());
    for (std::size_t i = 0; i < checks.size(); ++i) {
        const auto& c = *checks[i];
        results[i] = {c.id,
                      c.type,
                      c.severity,
                      {},
                      unix_seconds(),
                      std::chrono::duration_cast<std::chrono::seconds>(c.interval).count(),
                      0};
        auto hung = hung_.find(c.id);
        if (hung != hung_.end() && !hung->second->is_done()) {
            auto since = std::chrono::duration_cast<std::chrono::seconds>(clock::now() -
                                                                          hung->second->started);
            results[i].outcome = unknown("the run started " + std::to_string(since.count()) +
                                         " s ago is still hanging; not started again");
            jobs.push_back(nullptr);
            continue;
        }
        if (hung != hung_.end()) hung_.erase(hung);
        jobs.push_back(start(c));
    }

    bool stopping = false;
    auto stop_deadline = clock::time_point::max();
    for (std::size_t i = 0; i < checks.size(); ++i) {
        auto& j = jobs[i];
        if (!j) continue;
        for (;;) {
            if (j->wait_until(std::min({j->abandon_at, stop_deadline, clock::now() + 100ms})))
                break;
            if (!stopping && should_stop && should_stop()) {
                stopping = true;
                stop_deadline = clock::now() + abandon_margin;
                for (auto& other : jobs)
                    if (other) other->cancelled = true;
            }
            auto now = clock::now();
            if (now >= j->abandon_at || now >= stop_deadline) break;
        }
        auto& r = results[i];
        r.checked_at = j->checked_at;
        std::unique_lock lock(j->mutex);
        auto end = j->done ? j->finished_at : clock::now();
        r.duration_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(end - j->started).count();
        if (j->done) {
            r.outcome = j->outcome;
            continue;
        }
        lock.unlock();
        j->cancelled = true;
        hung_[r.id] = j;
        r.outcome = stopping ? unknown("stopped: the agent is shutting down")
                             : unknown("no result within the timeout of " +
                                       format_duration(checks[i]->timeout) + "; abandoned");
    }
    return results;
}

std::vector<check_result> run_all(const std::vector<check_config>& checks,
                                  const std::function<bool()>& should_stop) {
    std::vector<const check_config*> all;
    for (const auto& c : checks) all.push_back(&c);
    check_runner runner;
    return runner.run(all, should_stop);
}

}  // namespace muster::agent::checks
