#include "collector/wal_checkpointer.h"

#include "common/logging.h"
#include "common/sqlite.h"

#include <sqlite3.h>

#include <optional>

namespace muster::collector {

namespace {

// A PASSIVE checkpoint: copies what no reader still needs, waits for nobody. The number of
// WAL frames now in the database file, or nothing when it failed (logged).
std::optional<int> checkpoint(sqlite3* db, const char* who) {
    int wal_frames = 0;
    int copied = 0;
    int rc =
        sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied);
    if (rc == SQLITE_OK) return copied;
    // BUSY: another checkpoint is running (a backup's, an admin's); the next commit retries.
    auto level = rc == SQLITE_BUSY ? spdlog::level::debug : spdlog::level::warn;
    get_logger("storage")->log(level, "WAL checkpoint by the {} failed: {}", who,
                               sqlite3_errstr(rc));
    return std::nullopt;
}

// The checkpoint thread's connection. It knows the database is in WAL mode only once it has
// read it; a checkpoint before that does nothing.
std::unique_ptr<sqlite_database> open_for_checkpoints(const std::filesystem::path& db_file) {
    auto connection = std::make_unique<sqlite_database>(db_file, sqlite_open::read_write);
    connection->exec("PRAGMA journal_mode = WAL");
    return connection;
}

}  // namespace

wal_checkpointer::wal_checkpointer(const std::filesystem::path& db_file, sqlite3* writer,
                                   int bound_pages)
    : writer_(writer),
      bound_pages_(bound_pages),
      restart_pages_(bound_pages * restart_factor),
      // Opened here, so that a database that cannot be opened stops start-up, not the thread.
      connection_(open_for_checkpoints(db_file)),
      thread_([this] { run(); }) {
    sqlite3_wal_hook(writer_, &wal_checkpointer::on_commit, this);
}

wal_checkpointer::~wal_checkpointer() {
    // The automatic checkpoint again, for whatever the writer commits after this.
    sqlite3_wal_autocheckpoint(writer_, default_bound_pages);
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

std::uint64_t wal_checkpointer::background_runs() const {
    std::lock_guard lock(mutex_);
    return runs_;
}

int wal_checkpointer::on_commit(void* self, sqlite3* db, const char*, int wal_pages) noexcept {
    try {
        static_cast<wal_checkpointer*>(self)->after_commit(db, wal_pages);
    } catch (...) {
        // Logging failed; the next commit tries again.
    }
    return SQLITE_OK;
}

void wal_checkpointer::after_commit(sqlite3* db, int wal_pages) {
    if (wal_pages < bound_pages_) return;
    {
        std::lock_guard lock(mutex_);
        if (wanted_ || running_) return;
        bool tail_left =
            copied_pages_ > 0 && (wal_pages - copied_pages_ <= bound_pages_ / tail_fraction ||
                                  wal_pages >= restart_pages_);
        copied_pages_ = 0;
        if (!tail_left) {
            wanted_ = true;
            wake_.notify_one();
            return;
        }
    }
    // This thread's copy got all but a tail into the database file, and either the tail is
    // short or the WAL is as long as it may grow: copying the tail here lets the writer's
    // next transaction start the WAL again from its beginning.
    checkpoint(db, "writer");
}

void wal_checkpointer::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait(lock, [&] { return stopping_ || wanted_; });
        if (stopping_) return;
        wanted_ = false;
        running_ = true;
        lock.unlock();
        auto copied = checkpoint(connection_->handle(), "checkpoint thread");
        lock.lock();
        running_ = false;
        copied_pages_ = copied.value_or(0);
        ++runs_;
    }
}

}  // namespace muster::collector
