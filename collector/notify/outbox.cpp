#include "collector/notify/outbox.h"

namespace muster::collector::notify {
namespace {

constexpr int busy_timeout_ms = 10'000;

constexpr std::string_view create_webhooks_table = R"sql(
CREATE TABLE IF NOT EXISTS notification_webhooks (
    name TEXT PRIMARY KEY,
    first_outbox_id INTEGER NOT NULL,
    done_below INTEGER NOT NULL,
    added_at INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// A row is pending for a webhook while it has no delivery row, or one neither delivered nor
// failed (C3).
constexpr std::string_view pending_rows = R"sql(
SELECT o.id, o.incident_id, o.event, o.dedup_key, o.payload, o.created_at,
       COALESCE(d.attempts, 0), d.next_attempt_at
FROM notification_outbox o
LEFT JOIN notification_deliveries d ON d.outbox_id = o.id AND d.webhook = ?1
WHERE o.id >= (SELECT done_below FROM notification_webhooks WHERE name = ?1)
  AND d.delivered_at IS NULL AND d.failed_at IS NULL
ORDER BY o.id
LIMIT ?2
)sql";

void parse_payload(const std::string& text, outbox_row& row) {
    boost::system::error_code ec;
    auto value = boost::json::parse(text, ec);
    if (!ec && value.is_object()) row.payload = std::move(value.get_object());
}

}  // namespace

outbox_reader::outbox_reader(const std::filesystem::path& database)
    : db_(database, sqlite_open::read_write) {
    db_.set_busy_timeout(busy_timeout_ms);
    db_.exec(create_webhooks_table);
}

void outbox_reader::register_webhook(const std::string& webhook, std::int64_t now) {
    auto insert = db_.prepare(
        "INSERT OR IGNORE INTO notification_webhooks (name, first_outbox_id, done_below, "
        "added_at) SELECT ?1, next, next, ?2 FROM "
        "(SELECT COALESCE(MAX(id), 0) + 1 AS next FROM notification_outbox)");
    insert.bind(1, webhook);
    insert.bind(2, now);
    insert.step();
}

std::vector<pending_row> outbox_reader::pending(const std::string& webhook, std::size_t limit) {
    auto select = db_.prepare(pending_rows);
    select.bind(1, webhook);
    select.bind(2, static_cast<std::int64_t>(limit));
    std::vector<pending_row> rows;
    while (select.step()) {
        pending_row out;
        out.row.id = select.column_int64(0);
        out.row.incident_id = select.column_int64(1);
        out.row.event = select.column_text(2);
        out.row.dedup_key = select.column_text(3);
        parse_payload(select.column_text(4), out.row);
        out.row.created_at = select.column_int64(5);
        out.attempts = static_cast<int>(select.column_int64(6));
        if (!select.column_is_null(7)) out.next_attempt_at = select.column_int64(7);
        rows.push_back(std::move(out));
    }
    return rows;
}

void outbox_reader::record(std::int64_t outbox_id, const std::string& webhook,
                           const delivery_update& update) {
    auto upsert = db_.prepare(
        "INSERT INTO notification_deliveries (outbox_id, webhook, attempts, next_attempt_at, "
        "delivered_at, failed_at, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
        "ON CONFLICT (outbox_id, webhook) DO UPDATE SET attempts = excluded.attempts, "
        "next_attempt_at = excluded.next_attempt_at, delivered_at = excluded.delivered_at, "
        "failed_at = excluded.failed_at, last_error = excluded.last_error");
    upsert.bind(1, outbox_id);
    upsert.bind(2, webhook);
    upsert.bind(3, update.attempts);
    upsert.bind(4, update.next_attempt_at);
    if (update.delivered_at) {
        upsert.bind(5, *update.delivered_at);
    } else {
        upsert.bind(5, nullptr);
    }
    if (update.failed_at) {
        upsert.bind(6, *update.failed_at);
    } else {
        upsert.bind(6, nullptr);
    }
    if (update.last_error.empty()) {
        upsert.bind(7, nullptr);
    } else {
        upsert.bind(7, update.last_error);
    }
    upsert.step();
}

void outbox_reader::advance_watermark(const std::string& webhook) {
    // One statement, one snapshot: a row committed meanwhile has a higher id than the
    // MAX(id) read here, so it stays above the watermark.
    auto update = db_.prepare(R"sql(
UPDATE notification_webhooks SET done_below = COALESCE(
    (SELECT MIN(o.id) FROM notification_outbox o
     LEFT JOIN notification_deliveries d ON d.outbox_id = o.id AND d.webhook = ?1
     WHERE o.id >= done_below AND d.delivered_at IS NULL AND d.failed_at IS NULL),
    (SELECT MAX(id) + 1 FROM notification_outbox WHERE id >= done_below),
    done_below)
WHERE name = ?1
)sql");
    update.bind(1, webhook);
    update.step();
}

}  // namespace muster::collector::notify
