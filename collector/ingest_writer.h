#pragma once
// The single writer of reports, with group commit: one thread takes up to max_batch queued
// reports (waiting at most max_wait after the oldest arrived), applies them with ONE
// store.ingest() call (one transaction), and only then completes each waiting request. So an
// agent is acknowledged only after its data is committed, and a burst of agents shares one
// fsync.
//
// Error policy: a full queue is the value `overloaded`; a store exception fails the batch,
// which is then retried one report at a time so that one bad report fails only itself.
// A full disk (SQLITE_FULL) is retried one report at a time too (small reports may fit
// where the whole batch did not), and is the value `storage_full` for each report that
// still fails; it is logged once per burst: when the first report is refused, and when a
// batch commits again with none refused.
#include "collector/store.h"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace muster::collector {

struct ingest_reply {
    enum class kind { done, overloaded, storage_full, failed };
    kind outcome = kind::done;
    ingest_result result;  // when done
};

// True for SQLite's "database or disk is full": the collector answers 503 storage_full.
bool storage_full_error(const std::exception& error);

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
    void note_storage_full(const std::exception& error, std::size_t reports);
    void note_stored();

    cmdb_store& store_;
    ingest_writer_options options_;
    clock_function now_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<queued> queue_;
    bool stopping_ = false;
    // Reports refused since the disk became full; 0 while it is not. Writer thread only.
    std::size_t refused_while_full_ = 0;
    std::thread thread_;
};

}  // namespace muster::collector
