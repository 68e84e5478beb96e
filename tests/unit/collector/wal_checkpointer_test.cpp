// The WAL copied into the database on a thread of its own (collector/wal_checkpointer.h):
// a writer committing without pause keeps a WAL of a few times the bound, not one that
// grows with everything written, and every committed row reaches the database file.
#include "collector/wal_checkpointer.h"
#include "common/sqlite.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>

namespace {

using muster::sqlite_database;
using muster::collector::wal_checkpointer;

constexpr int bound_pages = 64;
constexpr int page_bytes = 4096;

sqlite_database open_writer(const std::string& file) {
    sqlite_database db(file);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body BLOB)");
    return db;
}

// Commits `transactions` transactions of about four pages each; the largest WAL seen.
std::uintmax_t write_without_pause(sqlite_database& db, const std::string& file, int transactions) {
    std::uintmax_t largest = 0;
    auto insert = db.prepare("INSERT INTO t (body) VALUES (zeroblob(3000))");
    for (int i = 0; i < transactions; ++i) {
        muster::sqlite_transaction transaction(db);
        for (int row = 0; row < 5; ++row) {
            insert.reset();
            insert.step();
        }
        transaction.commit();
        std::error_code ignored;
        largest = std::max(largest, std::filesystem::file_size(file + "-wal", ignored));
    }
    return largest;
}

std::int64_t rows_in(const std::string& file) {
    sqlite_database reader(file, muster::sqlite_open::read_only);
    auto count = reader.prepare("SELECT count(*) FROM t");
    count.step();
    return count.column_int64(0);
}

}  // namespace

TEST_CASE("a writer that never pauses keeps a bounded WAL, copied on the checkpoint thread") {
    muster::test::temp_dir dir;
    auto file = dir.path() + "/cmdb.sqlite";
    auto db = open_writer(file);
    constexpr int transactions = 6000;  // some 24,000 pages, 12 times the restart size
    std::uint64_t runs = 0;
    std::uintmax_t largest = 0;
    {
        wal_checkpointer checkpointer(file, db.handle(), bound_pages);
        largest = write_without_pause(db, file, transactions);
        runs = checkpointer.background_runs();
    }
    CHECK(runs > 0);
    // The restart size and what the writer adds while a copy runs (a few pages here).
    CHECK(largest <
          std::uintmax_t{2} * wal_checkpointer::restart_factor * bound_pages * page_bytes);
    CHECK(rows_in(file) == transactions * 5);
    auto check = db.prepare("PRAGMA integrity_check");
    REQUIRE(check.step());
    CHECK(check.column_text(0) == "ok");
}

TEST_CASE("once the checkpointer is gone, the writer checkpoints by itself again") {
    muster::test::temp_dir dir;
    auto file = dir.path() + "/cmdb.sqlite";
    auto db = open_writer(file);
    { wal_checkpointer checkpointer(file, db.handle(), bound_pages); }
    // SQLite's own bound, 1,000 pages: 3,000 transactions of four pages cross it many times.
    auto largest = write_without_pause(db, file, 3000);
    CHECK(largest < std::uintmax_t{2} * wal_checkpointer::default_bound_pages * page_bytes);
}
