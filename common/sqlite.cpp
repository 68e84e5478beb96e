#include "common/sqlite.h"

#include <sqlite3.h>

#include <climits>

namespace muster {

static_assert(sqlite_open::read_only == SQLITE_OPEN_READONLY);
static_assert(sqlite_open::read_write == SQLITE_OPEN_READWRITE);
static_assert(sqlite_open::create == SQLITE_OPEN_CREATE);
static_assert(sqlite_open::full_mutex == SQLITE_OPEN_FULLMUTEX);

namespace {

// The connection remembers its last error; it describes this failure (with the extended
// code and a detailed message) unless the failure came from a call that does not set it.
[[noreturn]] void throw_error(sqlite3* db, int rc, std::string_view what) {
    bool detailed = db != nullptr && (sqlite3_extended_errcode(db) & 0xff) == (rc & 0xff);
    int extended = detailed ? sqlite3_extended_errcode(db) : rc;
    std::string message(what);
    message += ": ";
    message += detailed ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    throw sqlite_error(extended, message);
}

int text_size(std::string_view s) {
    if (s.size() > INT_MAX) throw sqlite_error(SQLITE_TOOBIG, "value too large to bind");
    return static_cast<int>(s.size());
}

bool only_whitespace_or_semicolons(std::string_view s) {
    return s.find_first_not_of(" \t\r\n;") == std::string_view::npos;
}

}  // namespace

sqlite_error::sqlite_error(int extended_code, const std::string& message)
    : std::runtime_error(message), extended_code_(extended_code) {}

// ----------------------------------------------------------------------------------------
// Connection

void sqlite_database::closer::operator()(sqlite3* db) const noexcept {
    // _v2 defers the close until statements still alive are finalized, instead of failing.
    sqlite3_close_v2(db);
}

sqlite_database::sqlite_database(const std::filesystem::path& path, int flags) {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    db_.reset(raw);  // owned even on failure: sqlite3_open_v2 allocates a handle to report it
    if (rc != SQLITE_OK) throw_error(raw, rc, "cannot open " + path.string());
    sqlite3_extended_result_codes(raw, 1);
}

void sqlite_database::exec(std::string_view sql) {
    std::string text(sql);  // sqlite3_exec wants a terminated string
    int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) throw_error(db_.get(), rc, "exec");
}

sqlite_statement sqlite_database::prepare(std::string_view sql) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db_.get(), sql.data(), text_size(sql), &raw, &tail);
    sqlite_statement statement(raw);
    if (rc != SQLITE_OK) throw_error(db_.get(), rc, "prepare");
    if (raw == nullptr) throw sqlite_error(SQLITE_MISUSE, "prepare: no SQL statement");
    std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
    if (!only_whitespace_or_semicolons(rest))
        throw sqlite_error(SQLITE_MISUSE, "prepare: more than one SQL statement");
    return statement;
}

void sqlite_database::set_busy_timeout(int milliseconds) {
    sqlite3_busy_timeout(db_.get(), milliseconds);
}

std::int64_t sqlite_database::last_insert_rowid() const {
    return sqlite3_last_insert_rowid(db_.get());
}

int sqlite_database::changes() const {
    return sqlite3_changes(db_.get());
}

// ----------------------------------------------------------------------------------------
// Statement

void sqlite_statement::finalizer::operator()(sqlite3_stmt* stmt) const noexcept {
    sqlite3_finalize(stmt);
}

void sqlite_statement::check(int rc, std::string_view what) const {
    if (rc != SQLITE_OK) throw_error(sqlite3_db_handle(stmt_.get()), rc, what);
}

void sqlite_statement::bind(int index, std::int64_t value) {
    check(sqlite3_bind_int64(stmt_.get(), index, value), "bind");
}

void sqlite_statement::bind(int index, double value) {
    check(sqlite3_bind_double(stmt_.get(), index, value), "bind");
}

void sqlite_statement::bind(int index, std::string_view text) {
    check(sqlite3_bind_text(stmt_.get(), index, text.data(), text_size(text), SQLITE_TRANSIENT),
          "bind");
}

void sqlite_statement::bind(int index, std::nullptr_t) {
    check(sqlite3_bind_null(stmt_.get(), index), "bind");
}

void sqlite_statement::bind_blob(int index, std::string_view bytes) {
    check(sqlite3_bind_blob(stmt_.get(), index, bytes.data(), text_size(bytes), SQLITE_TRANSIENT),
          "bind");
}

bool sqlite_statement::step() {
    int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw_error(sqlite3_db_handle(stmt_.get()), rc, "step");
}

void sqlite_statement::reset() {
    // reset repeats the last step's error; that error was already thrown by step().
    sqlite3_reset(stmt_.get());
}

void sqlite_statement::clear_bindings() {
    sqlite3_clear_bindings(stmt_.get());
}

int sqlite_statement::column_count() const {
    return sqlite3_column_count(stmt_.get());
}

bool sqlite_statement::column_is_null(int column) const {
    return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

std::int64_t sqlite_statement::column_int64(int column) const {
    return sqlite3_column_int64(stmt_.get(), column);
}

double sqlite_statement::column_double(int column) const {
    return sqlite3_column_double(stmt_.get(), column);
}

std::string sqlite_statement::column_text(int column) const {
    return std::string(column_text_view(column));
}

std::string_view sqlite_statement::column_text_view(int column) const {
    auto* text = sqlite3_column_text(stmt_.get(), column);
    // The size must be asked after the pointer: the call may convert the value.
    int size = sqlite3_column_bytes(stmt_.get(), column);
    return text ? std::string_view(reinterpret_cast<const char*>(text),
                                   static_cast<std::size_t>(size))
                : std::string_view();
}

std::string sqlite_statement::column_blob(int column) const {
    const void* blob = sqlite3_column_blob(stmt_.get(), column);
    int size = sqlite3_column_bytes(stmt_.get(), column);
    return blob ? std::string(static_cast<const char*>(blob), static_cast<std::size_t>(size))
                : std::string();
}

// ----------------------------------------------------------------------------------------
// Transaction

sqlite_transaction::sqlite_transaction(sqlite_database& db, sqlite_transaction_mode mode)
    : db_(db) {
    switch (mode) {
        case sqlite_transaction_mode::deferred:
            db_.exec("BEGIN DEFERRED");
            break;
        case sqlite_transaction_mode::immediate:
            db_.exec("BEGIN IMMEDIATE");
            break;
        case sqlite_transaction_mode::exclusive:
            db_.exec("BEGIN EXCLUSIVE");
            break;
    }
}

sqlite_transaction::~sqlite_transaction() {
    // A failed rollback leaves nothing to do: SQLite rolls back on close anyway.
    if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void sqlite_transaction::commit() {
    db_.exec("COMMIT");
    done_ = true;
}

}  // namespace muster
