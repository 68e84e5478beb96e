#pragma once
// The software catalogue (GET /api/v1/software), kept in memory. Counting
// distinct versions and hosts per package name reads every installation of the
// names on a page: 1,000,000 index entries for the first page at 10,000 hosts
// of 900 packages, about half a second. So the whole catalogue is aggregated in
// one ordered pass over the packages by name and version, with their installs,
// and kept with a marker of the CMDB's content: the newest change record id
// (every software change writes ci_history in the same transaction) and the
// newest CI id.
//
// A request finds the marker unchanged: the cached catalogue is exact. Changed:
// when the cache is younger than max_lag it is answered as it is and rebuilt in
// the background, else it is rebuilt first. With max_lag 0 every answer is
// exact.
//
// Thread-safety: every member may be called from any thread. The rebuild has
// its own read-only connection and runs one at a time.
//
// Error policy: storage layer; sqlite_error from a synchronous rebuild
// propagates, a failed background rebuild is logged and retried by the next
// request.
#include "common/sqlite.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace muster::collector::admin {

struct catalogue_entry {
    std::string name;
    std::int64_t versions = 0;
    std::int64_t hosts = 0;
};

class software_catalogue {
  public:
    software_catalogue(const std::filesystem::path& database, std::chrono::seconds max_lag);
    software_catalogue(const software_catalogue&) = delete;
    software_catalogue& operator=(const software_catalogue&) = delete;

    // The catalogue by name ascending; marker_db reads the current marker.
    std::shared_ptr<const std::vector<catalogue_entry>> current(sqlite_database& marker_db);

  private:
    struct marker {
        std::int64_t history = 0;
        std::int64_t cis = 0;
        bool operator==(const marker&) const = default;
    };
    struct snapshot {
        std::shared_ptr<const std::vector<catalogue_entry>> entries;
        marker built_from;
        std::chrono::steady_clock::time_point built_at;
    };
    static marker read_marker(sqlite_database& db);
    snapshot build();
    void rebuild_in_background();

    std::chrono::seconds max_lag_;
    std::mutex build_mutex_;  // one rebuild at a time; guards db_
    sqlite_database db_;
    std::mutex mutex_;  // guards cached_ and background_
    snapshot cached_;
    std::atomic<bool> rebuilding_{false};
    std::jthread background_;  // last: joined first when the catalogue goes
};

}  // namespace muster::collector::admin
