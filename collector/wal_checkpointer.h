#pragma once
// Copies the writer's WAL into the database file on a thread of its own, so that the single
// writer, which every report waits for, spends its time on reports.
//
// SQLite's automatic checkpoint runs inside the commit that crosses its bound (1,000 pages):
// that commit, and every report of its batch, waits while the WAL is copied and synced (a
// batch of 64 full reports alone is some 9,000 pages). Here the writer's commits only count
// the WAL's pages (sqlite3_wal_hook, which replaces the automatic checkpoint on that
// connection). Past the bound, this thread copies what is in the WAL on its own connection
// (a PASSIVE checkpoint, which neither waits for nor blocks the writer). The writer keeps
// appending meanwhile, and a WAL starts again from its beginning only when all of it is in
// the database file; so when a copy has left only a short tail, or the WAL has reached
// restart_factor times the bound, the writer's next commit copies the tail itself (what it
// appended during the last copy), and the commit after restarts the WAL. The WAL file so
// stays within the restart size and one batch, written over rather than grown.
//
// Error policy: a failed checkpoint is logged and retried at the next commit past the bound;
// it never reaches a report (the data is safe in the WAL either way).
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

struct sqlite3;

namespace muster {
class sqlite_database;
}

namespace muster::collector {

class wal_checkpointer {
  public:
    static constexpr int default_bound_pages = 1000;
    // The writer copies a tail of at most bound / tail_fraction pages itself, and any tail
    // once the WAL holds restart_factor times the bound.
    static constexpr int tail_fraction = 4;
    static constexpr int restart_factor = 32;

    // Watches `writer`, a connection to `db_file` in WAL mode, which must outlive this.
    wal_checkpointer(const std::filesystem::path& db_file, sqlite3* writer,
                     int bound_pages = default_bound_pages);
    wal_checkpointer(const wal_checkpointer&) = delete;
    wal_checkpointer& operator=(const wal_checkpointer&) = delete;
    ~wal_checkpointer();

    // Checkpoints run on this thread so far (the tests look).
    std::uint64_t background_runs() const;

  private:
    static int on_commit(void* self, sqlite3* db, const char* schema, int wal_pages) noexcept;
    void after_commit(sqlite3* db, int wal_pages);
    void run();

    sqlite3* writer_;
    int bound_pages_;
    int restart_pages_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool wanted_ = false;   // the writer asked for a copy
    bool running_ = false;  // this thread is copying
    bool stopping_ = false;
    int copied_pages_ = 0;  // how far the last finished copy got (0: none since the tail)
    std::uint64_t runs_ = 0;
    std::unique_ptr<sqlite_database> connection_;  // this thread's own
    std::thread thread_;
};

}  // namespace muster::collector
