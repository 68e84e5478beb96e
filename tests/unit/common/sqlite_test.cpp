// The SQLite wrapper on real database files in a temporary directory.
#include "common/sqlite.h"
#include "support/process.h"

#include <sqlite3.h>

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

namespace {

std::int64_t count_rows(muster::sqlite_database& db, const std::string& table) {
    auto statement = db.prepare("SELECT count(*) FROM " + table);
    REQUIRE(statement.step());
    return statement.column_int64(0);
}

void create_hosts(muster::sqlite_database& db) {
    db.exec(
        "CREATE TABLE hosts (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, "
        "weight REAL, data BLOB)");
}

}  // namespace

TEST_CASE("statements bind and read every type") {
    muster::test::temp_dir dir;
    muster::sqlite_database db(dir.path() + "/t.db");
    create_hosts(db);
    auto insert = db.prepare("INSERT INTO hosts (name, weight, data) VALUES (?1, ?2, ?3)");
    insert.bind(1, "alpha");
    insert.bind(2, 1.5);
    std::string blob("\x00\x01\xff", 3);
    insert.bind_blob(3, blob);
    CHECK_FALSE(insert.step());
    CHECK(db.last_insert_rowid() == 1);
    CHECK(db.changes() == 1);

    insert.reset();
    insert.bind(1, std::string_view("beta"));
    insert.bind(2, nullptr);
    insert.bind(3, nullptr);
    insert.step();
    CHECK(db.last_insert_rowid() == 2);

    auto select = db.prepare("SELECT id, name, weight, data FROM hosts ORDER BY id");
    CHECK(select.column_count() == 4);
    REQUIRE(select.step());
    CHECK(select.column_int64(0) == 1);
    CHECK(select.column_text(1) == "alpha");
    CHECK(select.column_double(2) == 1.5);
    CHECK(select.column_blob(3) == blob);
    REQUIRE(select.step());
    CHECK(select.column_text(1) == "beta");
    CHECK(select.column_is_null(2));
    CHECK(select.column_is_null(3));
    CHECK(select.column_blob(3).empty());
    CHECK_FALSE(select.step());

    auto big = db.prepare("SELECT ?1");
    big.bind(1, std::int64_t{9007199254740993});
    REQUIRE(big.step());
    CHECK(big.column_int64(0) == 9007199254740993);
}

TEST_CASE("a transaction rolls back when its scope ends without commit") {
    muster::test::temp_dir dir;
    muster::sqlite_database db(dir.path() + "/t.db");
    create_hosts(db);
    {
        muster::sqlite_transaction transaction(db);
        db.exec("INSERT INTO hosts (name) VALUES ('a'), ('b')");
        CHECK(count_rows(db, "hosts") == 2);
    }
    CHECK(count_rows(db, "hosts") == 0);

    try {
        muster::sqlite_transaction transaction(db);
        db.exec("INSERT INTO hosts (name) VALUES ('a')");
        throw std::runtime_error("collector failed");
    } catch (const std::runtime_error&) {
    }
    CHECK(count_rows(db, "hosts") == 0);
}

TEST_CASE("a committed transaction is visible to another connection") {
    muster::test::temp_dir dir;
    auto path = dir.path() + "/t.db";
    muster::sqlite_database db(path);
    create_hosts(db);
    {
        muster::sqlite_transaction transaction(db);
        db.exec("INSERT INTO hosts (name) VALUES ('a'), ('b'), ('c')");
        transaction.commit();
    }
    muster::sqlite_database reader(path, muster::sqlite_open::read_only);
    CHECK(count_rows(reader, "hosts") == 3);
    auto via_tool = muster::test::run({"sqlite3", path, "SELECT group_concat(name) FROM hosts"});
    if (via_tool.exit_code != 127) CHECK(via_tool.out == "a,b,c\n");
}

TEST_CASE("BEGIN IMMEDIATE takes the write lock at once") {
    muster::test::temp_dir dir;
    auto path = dir.path() + "/t.db";
    muster::sqlite_database first(path);
    create_hosts(first);
    muster::sqlite_database second(path);
    muster::sqlite_transaction holding(first);
    try {
        muster::sqlite_transaction blocked(second);
        FAIL("second writer was not refused");
    } catch (const muster::sqlite_error& e) {
        CHECK(e.code() == SQLITE_BUSY);
    }
}

TEST_CASE("errors carry the primary and extended result codes") {
    muster::test::temp_dir dir;
    muster::sqlite_database db(dir.path() + "/t.db");
    create_hosts(db);
    db.exec("INSERT INTO hosts (name) VALUES ('dup')");
    auto insert = db.prepare("INSERT INTO hosts (name) VALUES (?1)");
    insert.bind(1, "dup");
    try {
        insert.step();
        FAIL("duplicate insert succeeded");
    } catch (const muster::sqlite_error& e) {
        CHECK(e.code() == SQLITE_CONSTRAINT);
        CHECK(e.extended_code() == SQLITE_CONSTRAINT_UNIQUE);
        CHECK_THAT(e.what(), Catch::Contains("UNIQUE constraint failed: hosts.name"));
    }
    insert.reset();
    insert.bind(1, nullptr);
    try {
        insert.step();
        FAIL("NULL name accepted");
    } catch (const muster::sqlite_error& e) {
        CHECK(e.extended_code() == SQLITE_CONSTRAINT_NOTNULL);
    }

    try {
        db.prepare("SELEC 1");
        FAIL("syntax error accepted");
    } catch (const muster::sqlite_error& e) {
        CHECK(e.code() == SQLITE_ERROR);
        CHECK_THAT(e.what(), Catch::Contains("syntax error"));
    }
    CHECK_THROWS_AS(db.prepare("SELECT 1; SELECT 2"), muster::sqlite_error);
    CHECK_NOTHROW(db.prepare("SELECT 1; "));
    auto statement = db.prepare("SELECT ?1");
    try {
        statement.bind(2, 1);
        FAIL("out-of-range parameter accepted");
    } catch (const muster::sqlite_error& e) {
        CHECK(e.code() == SQLITE_RANGE);
    }
    try {
        muster::sqlite_database missing(dir.path() + "/no/such/dir/t.db");
        FAIL("opened a database in a missing directory");
    } catch (const muster::sqlite_error& e) {
        CHECK(e.code() == SQLITE_CANTOPEN);
    }
}

TEST_CASE("WAL journal mode can be enabled and persists") {
    muster::test::temp_dir dir;
    auto path = dir.path() + "/t.db";
    {
        muster::sqlite_database db(path);
        {
            auto pragma = db.prepare("PRAGMA journal_mode=WAL");
            REQUIRE(pragma.step());
            CHECK(pragma.column_text(0) == "wal");
        }
        create_hosts(db);
        db.exec("INSERT INTO hosts (name) VALUES ('w')");
        CHECK(std::filesystem::exists(path + "-wal"));
    }
    muster::sqlite_database reopened(path);
    auto mode = reopened.prepare("PRAGMA journal_mode");
    REQUIRE(mode.step());
    CHECK(mode.column_text(0) == "wal");
    CHECK(count_rows(reopened, "hosts") == 1);
}
