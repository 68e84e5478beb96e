#pragma once
// The notifier's view of the database (contracts C3): pending outbox rows per webhook and
// their delivery rows. Its own SQLite connection, so delivering never holds the ingest
// writer's connection; WAL lets it read while ingest writes, and a busy timeout makes its
// small writes wait for a batch in progress.
//
// Besides C3's two tables it keeps notification_webhooks (created here if missing): when each
// webhook was first configured (rows older than that are not sent to it, so adding a webhook
// does not replay history) and a watermark below which every row is done for it, so a pass
// reads only the pending tail of the outbox.
//
// Error policy: storage code throws sqlite_error (common/sqlite.h).
#include "collector/notify/formats.h"
#include "common/sqlite.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace muster::collector::notify {

struct pending_row {
    outbox_row row;
    int attempts = 0;                             // made so far
    std::optional<std::int64_t> next_attempt_at;  // nullopt: never tried
};

struct delivery_update {
    int attempts = 0;
    std::int64_t next_attempt_at = 0;
    std::optional<std::int64_t> delivered_at;
    std::optional<std::int64_t> failed_at;
    std::string last_error;
};

class outbox_reader {
  public:
    explicit outbox_reader(const std::filesystem::path& database);

    // Makes sure webhook has its start point (idempotent).
    void register_webhook(const std::string& webhook, std::int64_t now);
    // Pending rows for webhook in id order, at most limit, from its watermark on.
    std::vector<pending_row> pending(const std::string& webhook, std::size_t limit);
    void record(std::int64_t outbox_id, const std::string& webhook, const delivery_update& update);
    // Moves webhook's watermark up to its first pending row.
    void advance_watermark(const std::string& webhook);

  private:
    sqlite_database db_;
};

}  // namespace muster::collector::notify
