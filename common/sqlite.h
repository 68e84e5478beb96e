#pragma once
// A small RAII layer over the SQLite C API: a connection, prepared statements and
// transactions that cannot leak or be left open.
//
// Error policy: storage code throws. Every failing SQLite call throws sqlite_error carrying
// the primary result code, the extended code (such as SQLITE_CONSTRAINT_UNIQUE) and
// SQLite's message. Destructors never throw: they close, finalize and roll back silently.
//
// <sqlite3.h> stays out of this header; callers that need SQLite's constants (to compare
// codes) include it themselves.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace muster {

class sqlite_error : public std::runtime_error {
  public:
    sqlite_error(int extended_code, const std::string& message);
    int code() const { return extended_code_ & 0xff; }
    int extended_code() const { return extended_code_; }

  private:
    int extended_code_;
};

// Flags for sqlite_database; the values are SQLite's own SQLITE_OPEN_* bits.
namespace sqlite_open {
inline constexpr int read_only = 0x00000001;
inline constexpr int read_write = 0x00000002;
inline constexpr int create = 0x00000004;
inline constexpr int full_mutex = 0x00010000;
}  // namespace sqlite_open

class sqlite_statement;

class sqlite_database {
  public:
    explicit sqlite_database(const std::filesystem::path& path,
                             int flags = sqlite_open::read_write | sqlite_open::create);

    // Runs one or more statements that return no rows of interest.
    void exec(std::string_view sql);
    // Prepares exactly one statement; trailing statements are an error.
    sqlite_statement prepare(std::string_view sql);

    // How long a write waits for another connection's lock before SQLITE_BUSY.
    void set_busy_timeout(int milliseconds);
    std::int64_t last_insert_rowid() const;
    int changes() const;
    sqlite3* handle() const { return db_.get(); }

  private:
    struct closer {
        void operator()(sqlite3* db) const noexcept;
    };
    std::unique_ptr<sqlite3, closer> db_;
};

class sqlite_statement {
  public:
    // Parameters are 1-based, as in SQL ("?1").
    void bind(int index, std::int64_t value);
    void bind(int index, int value) { bind(index, static_cast<std::int64_t>(value)); }
    void bind(int index, double value);
    void bind(int index, std::string_view text);
    void bind(int index, const char* text) { bind(index, std::string_view(text)); }
    void bind(int index, std::nullptr_t);
    void bind_blob(int index, std::string_view bytes);

    // Advances to the next row: true when a row is available, false when done.
    bool step();
    // Makes the statement runnable again; bindings are kept.
    void reset();
    void clear_bindings();

    // Columns are 0-based, as in sqlite3_column_*.
    int column_count() const;
    bool column_is_null(int column) const;
    std::int64_t column_int64(int column) const;
    double column_double(int column) const;
    std::string column_text(int column) const;
    // The text where SQLite holds it, without a copy: valid until the next step, reset or
    // column call on this statement.
    std::string_view column_text_view(int column) const;
    std::string column_blob(int column) const;

    sqlite3_stmt* handle() const { return stmt_.get(); }

  private:
    friend class sqlite_database;
    explicit sqlite_statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
    void check(int rc, std::string_view what) const;
    struct finalizer {
        void operator()(sqlite3_stmt* stmt) const noexcept;
    };
    std::unique_ptr<sqlite3_stmt, finalizer> stmt_;
};

enum class sqlite_transaction_mode { deferred, immediate, exclusive };

// BEGIN on construction; ROLLBACK on destruction unless commit() succeeded.
class sqlite_transaction {
  public:
    explicit sqlite_transaction(sqlite_database& db,
                                sqlite_transaction_mode mode = sqlite_transaction_mode::immediate);
    sqlite_transaction(const sqlite_transaction&) = delete;
    sqlite_transaction& operator=(const sqlite_transaction&) = delete;
    ~sqlite_transaction();

    void commit();

  private:
    sqlite_database& db_;
    bool done_ = false;
};

}  // namespace muster
