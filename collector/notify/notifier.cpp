#include "collector/notify/notifier.h"

#include "collector/notify/http_post.h"
#include "common/logging.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

namespace muster::collector::notify {
namespace {

// Rows read per webhook and pass; the rest wait for the next pass.
constexpr std::size_t rows_per_pass = 1000;

std::shared_ptr<spdlog::logger> log() {
    return get_logger("notify");
}

bool retryable(int status) {
    return status == 0 || status == 429 || status >= 500;
}

std::string describe(const post_result& result) {
    if (result.status == 0) return result.error;
    std::string text = "HTTP " + std::to_string(result.status);
    if (!result.first_line.empty()) text += ": " + result.first_line;
    return text;
}

notifier::jitter_function default_jitter() {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

}  // namespace

std::int64_t backoff_seconds(const notify_settings& settings, int attempts, double jitter) {
    double delay_ms = static_cast<double>(settings.backoff_initial.count()) *
                      std::pow(2.0, std::max(0, attempts - 1));
    delay_ms = std::min(delay_ms, static_cast<double>(settings.backoff_max.count()));
    // Jitter spreads the retries of many rows (and collectors) that failed together.
    delay_ms *= 0.5 + 0.5 * std::clamp(jitter, 0.0, 1.0);
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(delay_ms / 1000.0)));
}

notifier::notifier(const std::filesystem::path& database, notify_settings settings,
                   clock_function now, jitter_function jitter)
    : settings_(std::move(settings)),
      now_(std::move(now)),
      jitter_(jitter ? std::move(jitter) : default_jitter()),
      outbox_(database) {
    for (const auto& hook : settings_.webhooks) outbox_.register_webhook(hook.name, now_());
}

notifier::~notifier() {
    stop();
}

std::size_t notifier::run_once() {
    std::size_t attempts = 0;
    for (const auto& hook : settings_.webhooks) {
        if (stop_requested()) break;
        attempts += deliver_pending(hook);
    }
    return attempts;
}

std::size_t notifier::deliver_pending(const webhook& hook) {
    std::size_t attempts = 0;
    std::set<std::int64_t> waiting_incidents;  // an earlier row of theirs is still pending
    for (const auto& pending : outbox_.pending(hook.name, rows_per_pass)) {
        bool first_of_incident = waiting_incidents.insert(pending.row.incident_id).second;
        if (!first_of_incident) continue;
        if (pending.next_attempt_at && *pending.next_attempt_at > now_()) continue;
        if (stop_requested()) break;
        ++attempts;
        // A webhook that does not answer costs one timeout per pass, not one per row, so
        // that it holds up the other webhooks as little as possible.
        if (!attempt(hook, pending)) break;
    }
    outbox_.advance_watermark(hook.name);
    return attempts;
}

bool notifier::attempt(const webhook& hook, const pending_row& pending) {
    auto result = http_post(hook, render(hook, pending.row));
    std::int64_t now = now_();
    delivery_update update;
    update.attempts = pending.attempts + 1;
    update.next_attempt_at = now;
    const auto& row = pending.row;
    if (result.status >= 200 && result.status < 300) {
        update.delivered_at = now;
        log()->info("delivered {} of incident {} to webhook {} (attempt {})", row.event,
                    row.incident_id, hook.name, update.attempts);
    } else if (retryable(result.status) && update.attempts < settings_.max_attempts) {
        std::int64_t wait = backoff_seconds(settings_, update.attempts, jitter_());
        // A receiver's Retry-After is honoured up to an hour (or backoff max when longer), so
        // a hostile or broken one cannot park a notification, and the incident's later ones,
        // forever.
        if (result.retry_after) {
            std::int64_t cap = std::max<std::int64_t>(
                3600,
                std::chrono::duration_cast<std::chrono::seconds>(settings_.backoff_max).count());
            wait = std::max<std::int64_t>(wait,
                                          std::min<std::int64_t>(result.retry_after->count(), cap));
        }
        update.next_attempt_at = now + wait;
        update.last_error = describe(result);
        log()->warn("webhook {}: {} of incident {} not delivered ({}); retry in {} s", hook.name,
                    row.event, row.incident_id, update.last_error, wait);
    } else {
        update.failed_at = now;
        update.last_error = describe(result);
        log()->error("webhook {}: giving up on {} of incident {} after {} attempts: {}", hook.name,
                     row.event, row.incident_id, update.attempts, update.last_error);
    }
    outbox_.record(row.id, hook.name, update);
    return result.status != 0;
}

bool notifier::stop_requested() {
    std::lock_guard lock(mutex_);
    return stopping_;
}

void notifier::start() {
    thread_ = std::thread([this] { loop(); });
}

void notifier::poke() {
    {
        std::lock_guard lock(mutex_);
        poked_ = true;
    }
    wake_.notify_all();
}

void notifier::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void notifier::loop() {
    while (!stop_requested()) {
        try {
            run_once();
        } catch (const std::exception& error) {
            log()->error("notification pass failed: {}", error.what());
        }
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, settings_.poll_interval, [this] { return stopping_ || poked_; });
        poked_ = false;
    }
}

}  // namespace muster::collector::notify
