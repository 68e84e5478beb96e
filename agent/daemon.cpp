#include "agent/daemon.h"

#include "agent/checks/registry.h"
#include "agent/checks/runner.h"
#include "agent/checks/schedule.h"
#include "agent/inventory/collectors.h"
#include "agent/wire/backoff.h"
#include "agent/wire/session.h"
#include "common/crypto.h"
#include "common/logging.h"

#include <signal.h>

#include <cerrno>
#include <ctime>

namespace muster::agent {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
using wire::delivery_status;
using wire::enroll_status;

// Results wait in memory only while the agent cannot make reports (not enrolled yet, or
// revoked); once made, reports wait in the bounded spool.
constexpr std::size_t max_pending_checks = 10000;

boost::json::object take_inventory(const agent_config& config) {
    inventory::context ctx("/", config.tags);
    return inventory::collect_inventory(ctx);
}

// Enrolls when needed. Returns an exit code to stop with, or nullopt when enrolled.
std::optional<int> enroll_once(wire::agent_session& session, const boost::json::object& inv) {
    if (session.enrolled()) return std::nullopt;
    auto r = session.enroll(inv);
    if (r.status == enroll_status::active) return std::nullopt;
    if (r.status == enroll_status::pending) {
        get_logger("agent")->warn("run `muster-agent once` again after the approval");
        return exit_pending;
    }
    return exit_not_delivered;
}

wire::report_extras extras_of(const agent_config& config) {
    wire::report_extras extras;
    extras.expected_interval =
        checks::expected_interval_seconds(config.inventory_interval, config.checks);
    return extras;
}

int once_cycle(const agent_config& config) {
    auto log = get_logger("agent");
    wire::agent_session session(config);
    auto inv = take_inventory(config);
    if (auto stop = enroll_once(session, inv)) return *stop;
    auto extras = extras_of(config);
    if (!config.checks.empty()) extras.checks = checks::to_json(checks::run_all(config.checks));
    // A report made again below replaces one that was not applied, so it carries the checks
    // again.
    auto seq = session.make_report(inv, extras);
    // A resync or a re-enrollment asks for a new full report; a few rounds at most.
    for (int round = 0; round < 4; ++round) {
        auto d = session.deliver();
        switch (d.status) {
            case delivery_status::done:
                if (session.state().acked_seq >= seq) return exit_acknowledged;
                seq = session.make_report(inv, extras);
                break;
            case delivery_status::needs_full_report:
                seq = session.make_report(inv, extras);
                break;
            case delivery_status::needs_enrollment:
                if (auto stop = enroll_once(session, inv)) return *stop;
                seq = session.make_report(inv, extras);
                break;
            case delivery_status::retry_later:
            case delivery_status::revoked:
            case delivery_status::cancelled:
                log->error("once: report {} was not acknowledged", seq);
                return exit_not_delivered;
        }
    }
    log->error("once: the collector kept refusing reports; giving up");
    return exit_not_delivered;
}

// ---------------------------------------------------------------------------------------
// The daemon

// Signals are blocked and taken synchronously with sigtimedwait, so no handler runs
// asynchronously; the HTTPS client polls sigpending() to abandon a request when asked to stop.
sigset_t daemon_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return set;
}

bool stop_pending() {
    sigset_t pending;
    sigpending(&pending);
    return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

// Waits until deadline or a signal; returns the signal, or 0 at the deadline.
int wait_for_signal(const sigset_t& set, clock::time_point deadline) {
    auto left = std::max(deadline - clock::now(), clock::duration::zero());
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec timeout{static_cast<time_t>(ns / 1'000'000'000),
                     static_cast<long>(ns % 1'000'000'000)};
    int signal = sigtimedwait(&set, nullptr, &timeout);
    return signal > 0 ? signal : 0;
}

class daemon {
  public:
    daemon(std::filesystem::path path, agent_config config, std::optional<std::string> level)
        : path_(std::move(path)), config_(std::move(config)), level_(std::move(level)) {}

    int run() {
        auto set = daemon_signals();
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
        open_session();
        auto splay = wire::random_duration(config_.inventory_splay);
        next_inventory_ = clock::now() + splay;
        next_send_ = clock::now();  // whatever a previous run left in the spool
        schedule_ = checks::check_schedule(config_.checks, clock::now());
        log_->info(
            "muster-agent daemon started: collector {}, inventory every {} s after a {} s "
            "splay, {} check(s)",
            config_.collector->url_text,
            std::chrono::duration_cast<std::chrono::seconds>(config_.inventory_interval).count(),
            std::chrono::duration_cast<std::chrono::seconds>(splay).count(), config_.checks.size());
        for (;;) {
            int signal =
                wait_for_signal(set, std::min({next_inventory_, next_send_, schedule_.next_due()}));
            if (signal == SIGTERM || signal == SIGINT) break;
            if (signal == SIGHUP) reload();
            if (clock::now() >= next_inventory_) take_inventory_now();
            if (clock::now() >= schedule_.next_due()) run_due_checks();
            if (stop_pending()) continue;  // taken by the next wait
            if (clock::now() >= next_send_) work();
        }
        log_->info("stopping on signal");
        return 0;
    }

  private:
    void open_session() { session_ = std::make_unique<wire::agent_session>(config_, stop_pending); }

    void reload() {
        try {
            auto fresh = load_agent_config(path_, config_use::delivery);
            if (level_) fresh.log.level = *level_;
            setup_logging(fresh.log);
            config_ = std::move(fresh);
            schedule_ = checks::check_schedule(config_.checks, clock::now());
            open_session();
            revoked_ = false;
            next_send_ = clock::now();
            log_->info("configuration reloaded from {}", path_.string());
        } catch (const std::exception& e) {
            log_->error("configuration reload failed, keeping the current one: {}", e.what());
        }
    }

    void take_inventory_now() {
        last_inventory_ = take_inventory(config_);
        unreported_ = true;
        next_inventory_ = clock::now() + config_.inventory_interval;
        next_send_ = clock::now();
    }

    // Runs the checks that are due; their results go out in the next report, made right away.
    void run_due_checks() {
        auto due = schedule_.take_due(clock::now());
        if (due.empty()) return;
        auto results = runner_.run(due, stop_pending);
        for (const auto& r : results) {
            log_->debug("check {}: {}: {}", r.id, checks::status_name(r.outcome.status),
                        r.outcome.message);
            pending_checks_.push_back(checks::to_json(r));
        }
        if (pending_checks_.size() > max_pending_checks) {
            auto excess = pending_checks_.size() - max_pending_checks;
            log_->warn("{} check results could not be reported (not enrolled); dropped the oldest",
                       excess);
            pending_checks_.erase(pending_checks_.begin(),
                                  pending_checks_.begin() + static_cast<std::ptrdiff_t>(excess));
        }
        next_send_ = clock::now();
    }

    wire::report_extras take_extras() {
        auto extras = extras_of(config_);
        if (!pending_checks_.empty()) extras.checks = std::move(pending_checks_);
        pending_checks_ = {};
        return extras;
    }

    // Spools what is waiting: a new inventory, check results, or both in one report. Check
    // results alone go as a delta from the last state; when the next report must be full,
    // the inventory is taken now for it.
    void make_reports() {
        if (!unreported_ && pending_checks_.empty()) return;
        // A resync asked for after a delta made without an inventory (just after a start).
        if (unreported_ && !last_inventory_) take_inventory_now();
        if (!unreported_) {
            auto extras = take_extras();
            if (session_->make_report_from_last_state(extras)) return;
            take_inventory_now();
            pending_checks_ = std::move(*extras.checks);
        }
        session_->make_report(*last_inventory_, take_extras());
        unreported_ = false;
    }

    void retry_in(std::optional<std::chrono::seconds> hint) {
        auto delay = std::max<clock::duration>(backoff_.next(), hint.value_or(0s));
        next_send_ = clock::now() + delay;
        log_->info("next attempt in {} s",
                   std::chrono::duration_cast<std::chrono::seconds>(delay).count());
    }

    bool enrolled() {
        if (session_->enrolled()) return true;
        if (!last_inventory_ && pending_checks_.empty() && !unreported_) return false;
        if (!last_inventory_) take_inventory_now();  // enrolling needs the machine's facts
        auto r = session_->enroll(*last_inventory_);
        if (r.status == enroll_status::active) return true;
        if (r.status == enroll_status::bad_token || r.status == enroll_status::revoked) {
            log_->error("not enrolling again until the configuration changes (SIGHUP)");
            revoked_ = true;
            next_send_ = clock::time_point::max();
            return false;
        }
        retry_in(r.retry_after);
        return false;
    }

    void work() {
        next_send_ = clock::time_point::max();
        if (revoked_ || !enrolled()) return;
        make_reports();
        auto d = session_->deliver();
        switch (d.status) {
            case delivery_status::done:
                backoff_.reset();
                resyncs_ = 0;
                break;
            case delivery_status::needs_full_report:
            case delivery_status::needs_enrollment:
                unreported_ = true;
                // Right away the first time; a collector refusing again and again gets backoff.
                if (resyncs_++ == 0)
                    next_send_ = clock::now();
                else
                    retry_in(d.retry_after);
                break;
            case delivery_status::retry_later:
                retry_in(d.retry_after);
                break;
            case delivery_status::revoked:
                revoked_ = true;
                break;
            case delivery_status::cancelled:
                break;
        }
    }

    std::filesystem::path path_;
    agent_config config_;
    std::optional<std::string> level_;
    std::shared_ptr<spdlog::logger> log_ = get_logger("agent");
    std::unique_ptr<wire::agent_session> session_;
    std::optional<boost::json::object> last_inventory_;
    bool unreported_ = false;  // last_inventory_ is not in a report yet
    checks::check_schedule schedule_;
    checks::check_runner runner_;
    boost::json::array pending_checks_;  // results not in a report yet, oldest first
    bool revoked_ = false;
    int resyncs_ = 0;
    wire::backoff backoff_;
    clock::time_point next_inventory_, next_send_;
};

template <typename F>
int guarded(F&& body) {
    try {
        return body();
    } catch (const std::exception& e) {
        // State directory, key or CA file problems: nothing can be sent until they are fixed.
        get_logger("agent")->error("{}", e.what());
        return exit_not_delivered;
    }
}

}  // namespace

int run_once(const agent_config& config) {
    return guarded([&] { return once_cycle(config); });
}

int run_daemon(const std::filesystem::path& config_path, agent_config config,
               std::optional<std::string> log_level) {
    return guarded([&] {
        daemon d(config_path, std::move(config), std::move(log_level));
        return d.run();
    });
}

}  // namespace muster::agent
