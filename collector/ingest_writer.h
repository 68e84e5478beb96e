#pragma once
// The single writer of reports, with group commit: one thread takes up to max_batch queued
// reports (waiting at most max_wait after the oldest arrived), applies them with ONE
// store.ingest() call (one transaction), and only then completes each waiting request. So an
// agent is acknowledged only after its data is committed, and a burst of agents shares one
// fsync.
//
// Error policy: a full queue is the value `overloaded`; a store exception fails the batch,
// which is then retried one report at a time so that one bad report fails only itself.
#include "collector/store.h"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace muster::collector {

struct ingest_reply {
    enum class kind { done, overloaded, failed };
    kind outcome = kind::done;
    ingest_result result;  // when done
};

struct ingest_writer_options {
    std::size_t max_batch = 64;
    std::chrono::microseconds max_wait{5000};
    std::size_t max_queue = 4096;
};

class ingest_writer {
  public:
    using clock_function = std::function<std::int64_t()>;  // Unix seconds, for store.ingest

    ingest_writer(cmdb_store& store, ingest_writer_options options, clock_function now);
    ~ingest_writer();
    ingest_writer(const ingest_writer&) = delete;
    ingest_writer& operator=(const ingest_writer&) = delete;

    // Queues report; resumes the calling coroutine, on its own executor, once the batch
    // holding it is committed (or at once with `overloaded`).
    boost::asio::awaitable<ingest_reply> submit(verified_report report);

    // Applies everything already queued, then stops the thread. Idempotent. Reports submitted
    // afterwards are answered `overloaded`.
    void stop();

  private:
    struct queued {
        verified_report report;
        std::function<void(ingest_reply)> complete;
        std::chrono::steady_clock::time_point queued_at;
    };

    bool enqueue(queued item);
    void run();
    std::deque<queued> next_batch();
    void apply(std::deque<queued>& batch);
    std::vector<ingest_reply> ingest_each(std::deque<queued>& batch);

    cmdb_store& store_;
    ingest_writer_options options_;
    clock_function now_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<queued> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace muster::collector
