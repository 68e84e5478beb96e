#pragma once
// The notification worker (issue 6, contracts C3): delivers the outbox to every configured
// webhook, in id order, with retries and exponential backoff with jitter.
//
// Order: for one webhook, a row of an incident is not sent before the incident's earlier
// rows are delivered or given up (so a resolve never overtakes its trigger). Different
// incidents do not wait for each other.
//
// Durability: the database is the truth. A row is marked delivered only after the webhook
// answered 2xx, so a collector killed during a POST sends that row again after restart;
// the stable dedup_key ("muster-incident-<id>") makes the repeat harmless for PagerDuty and
// for receivers that deduplicate.
//
// Answers: 2xx delivered; 429, 5xx and network errors retried (Retry-After honoured) until
// max_attempts; any other status is a permanent failure, logged with the first line of the
// answer. The PagerDuty routing key is never logged.
//
// Threads: one worker thread, woken every poll_interval and by poke(). stop() lets the
// delivery in progress finish (bounded by the webhook's timeout), then joins.
//
// Error policy: never throws out of the worker; a database error is logged and the pass is
// tried again at the next wake-up.
#include "collector/notify/outbox.h"
#include "collector/notify/settings.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace muster::collector::notify {

// Seconds to wait before attempt number attempts + 1, after attempts failed ones:
// initial * 2^(attempts-1) capped at max, scaled by jitter in [0.5, 1], at least 1 s.
std::int64_t backoff_seconds(const notify_settings& settings, int attempts, double jitter);

class notifier {
  public:
    using clock_function = std::function<std::int64_t()>;  // Unix seconds
    using jitter_function = std::function<double()>;       // uniform in [0, 1)

    // Opens its own connection to the database; the tables must exist (schema v2).
    notifier(const std::filesystem::path& database, notify_settings settings, clock_function now,
             jitter_function jitter = {});
    ~notifier();
    notifier(const notifier&) = delete;
    notifier& operator=(const notifier&) = delete;

    // One pass over every webhook: each due row is attempted once. Returns the attempts made.
    std::size_t run_once();

    void start();
    // Wakes the worker now (after an ingest batch that may have queued notifications).
    void poke();
    void stop();

  private:
    std::size_t deliver_pending(const webhook& hook);
    // False when the webhook did not answer at all (connect, TLS or timeout).
    bool attempt(const webhook& hook, const pending_row& pending);
    bool stop_requested();
    void loop();

    notify_settings settings_;
    clock_function now_;
    jitter_function jitter_;
    outbox_reader outbox_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool poked_ = false;
    std::thread thread_;
};

}  // namespace muster::collector::notify
