// The SQLite token_writer (queries.h): its own small read-write connection, so token changes
// never go through the ingest writer's queue; WAL and the busy timeout let it wait for a batch
// being committed.
#include "collector/admin/queries.h"
#include "collector/statement_cache.h"
#include "common/sqlite.h"

#include <mutex>

namespace muster::collector::admin {
namespace {

constexpr int busy_timeout_ms = 10'000;

class sqlite_token_writer final : public token_writer {
  public:
    explicit sqlite_token_writer(const std::filesystem::path& database)
        : db_(database, sqlite_open::read_write), sql_(db_) {
        db_.set_busy_timeout(busy_timeout_ms);
    }

    std::int64_t create_token(std::string_view name, role token_role, std::string_view token_sha256,
                              std::int64_t now) override {
        std::lock_guard lock(mutex_);
        auto insert = sql_(
            "INSERT INTO api_tokens (name, role, token_sha256, created_at) VALUES (?1, ?2, ?3, "
            "?4)");
        insert->bind(1, name);
        insert->bind(2, to_string(token_role));
        insert->bind(3, token_sha256);
        insert->bind(4, now);
        insert->step();
        return db_.last_insert_rowid();
    }

    bool revoke_token(std::int64_t id, std::int64_t now) override {
        std::lock_guard lock(mutex_);
        auto update =
            sql_("UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL");
        update->bind(1, id);
        update->bind(2, now);
        update->step();
        return db_.changes() > 0;
    }

    void touch_token(std::int64_t id, std::int64_t now) override {
        std::lock_guard lock(mutex_);
        auto update = sql_("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1");
        update->bind(1, id);
        update->bind(2, now);
        update->step();
    }

  private:
    std::mutex mutex_;
    sqlite_database db_;
    statement_cache sql_;
};

}  // namespace

std::unique_ptr<token_writer> open_sqlite_token_writer(const std::filesystem::path& database) {
    return std::make_unique<sqlite_token_writer>(database);
}

}  // namespace muster::collector::admin
