#include "collector/ingest_writer.h"

#include "common/logging.h"
#include "common/sqlite.h"

#include <sqlite3.h>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>

namespace muster::collector {
namespace asio = boost::asio;

bool storage_full_error(const std::exception& error) {
    const auto* sqlite = dynamic_cast<const sqlite_error*>(&error);
    return sqlite && sqlite->code() == SQLITE_FULL;
}

ingest_writer::ingest_writer(cmdb_store& store, ingest_writer_options options, clock_function now)
    : store_(store), options_(options), now_(std::move(now)), thread_([this] { run(); }) {}

ingest_writer::~ingest_writer() {
    stop();
}

void ingest_writer::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

asio::awaitable<ingest_reply> ingest_writer::submit(verified_report report) {
    auto initiate = [this](auto handler, verified_report r) {
        using handler_type = decltype(handler);
        auto shared = std::make_shared<handler_type>(std::move(handler));
        // Tracked work: the io_context must not run out of work while a request waits here.
        auto executor = asio::prefer(asio::get_associated_executor(*shared),
                                     asio::execution::outstanding_work.tracked);
        auto complete = [shared, executor](ingest_reply reply) {
            asio::post(executor, [shared, reply = std::move(reply)]() mutable {
                (*shared)(std::move(reply));
            });
        };
        if (!enqueue({std::move(r), complete, std::chrono::steady_clock::now()})) {
            complete({ingest_reply::kind::overloaded, {}});
        }
    };
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(ingest_reply)>(
        initiate, asio::use_awaitable, std::move(report));
}

bool ingest_writer::enqueue(queued item) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || queue_.size() >= options_.max_queue) return false;
        queue_.push_back(std::move(item));
    }
    wake_.notify_one();
    return true;
}

std::deque<ingest_writer::queued> ingest_writer::next_batch() {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return {};
    auto deadline = queue_.front().queued_at + options_.max_wait;
    wake_.wait_until(lock, deadline,
                     [&] { return stopping_ || queue_.size() >= options_.max_batch; });
    std::deque<queued> batch;
    while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
    return batch;
}

void ingest_writer::run() {
    while (true) {
        auto batch = next_batch();
        if (batch.empty()) return;  // stopping, and nothing left to apply
        apply(batch);
    }
}

void ingest_writer::apply(std::deque<queued>& batch) {
    std::vector<verified_report> reports;
    reports.reserve(batch.size());
    for (auto& item : batch) reports.push_back(std::move(item.report));
    std::vector<ingest_reply> replies;
    try {
        auto results = store_.ingest(reports, now_());
        for (auto& result : results)
            replies.push_back({ingest_reply::kind::done, std::move(result)});
        note_stored();
    } catch (const std::exception& e) {
        if (storage_full_error(e) && batch.size() == 1) {
            note_storage_full(e, 1);
            replies.assign(1, {ingest_reply::kind::storage_full, {}});
        } else if (storage_full_error(e)) {
            // One big report must not take the small ones that still fit down with it.
            for (std::size_t i = 0; i < batch.size(); ++i) batch[i].report = std::move(reports[i]);
            replies = ingest_each(batch);
        } else {
            get_logger("ingest")->error(
                "a batch of {} reports failed ({}); applying them one by one", reports.size(),
                e.what());
            for (std::size_t i = 0; i < batch.size(); ++i) batch[i].report = std::move(reports[i]);
            replies = ingest_each(batch);
        }
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        batch[i].complete(i < replies.size() ? std::move(replies[i])
                                             : ingest_reply{ingest_reply::kind::failed, {}});
    }
}

std::vector<ingest_reply> ingest_writer::ingest_each(std::deque<queued>& batch) {
    std::vector<ingest_reply> replies;
    bool stored = false;
    bool full = false;
    for (auto& item : batch) {
        try {
            auto results = store_.ingest(std::span(&item.report, 1), now_());
            replies.push_back({ingest_reply::kind::done, std::move(results.at(0))});
            stored = true;
        } catch (const std::exception& e) {
            if (storage_full_error(e)) {
                note_storage_full(e, 1);
                replies.push_back({ingest_reply::kind::storage_full, {}});
                full = true;
                continue;
            }
            get_logger("ingest")->error("report seq {} of agent {} failed: {}", item.report.seq,
                                        item.report.agent_id, e.what());
            replies.push_back({ingest_reply::kind::failed, {}});
        }
    }
    // The disk is "available again" only when nothing of the batch met it full: small reports
    // fitting between refused big ones do not end the burst (one line each way per burst).
    if (stored && !full) note_stored();
    return replies;
}

// A full disk stays full for a while and every report meets it: one line when it starts,
// one when reports are stored again, rather than one per report.
void ingest_writer::note_storage_full(const std::exception& error, std::size_t reports) {
    if (refused_while_full_ == 0) {
        get_logger("ingest")->error(
            "storage full: the database cannot grow ({}); reports are refused with 503 "
            "storage_full until there is room again",
            error.what());
    }
    refused_while_full_ += reports;
}

void ingest_writer::note_stored() {
    if (refused_while_full_ == 0) return;
    get_logger("ingest")->warn(
        "storage available again: reports are stored; {} report(s) were refused while it was "
        "full",
        refused_while_full_);
    refused_while_full_ = 0;
}

}  // namespace muster::collector
