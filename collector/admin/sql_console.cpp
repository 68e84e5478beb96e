#include "collector/admin/sql_console.h"

#include "common/sqlite.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iterator>
#include <optional>

namespace muster::collector {

namespace {

constexpr std::size_t max_sql_bytes = 1 << 20;

// Functions a query may call: SQLite's core scalar, aggregate, window, date, math and JSON
// functions (-> and ->> are the JSON operators). Left out on purpose: load_extension,
// fts3_tokenizer, and anything a build might add later that we have not looked at (an allow list
// fails closed).
// clang-format off
constexpr std::string_view allowed_functions[] = {
    "->", "->>", "abs", "acos", "asin", "atan", "atan2", "avg", "ceil", "ceiling", "changes",
    "char", "coalesce", "cos", "count", "cume_dist", "current_date", "current_time",
    "current_timestamp", "date", "datetime", "degrees", "dense_rank", "exp", "first_value",
    "floor", "format", "glob", "group_concat", "hex", "ifnull", "iif", "instr", "json",
    "json_array", "json_array_length", "json_extract", "json_group_array", "json_group_object",
    "json_insert", "json_object", "json_patch", "json_quote", "json_remove", "json_replace",
    "json_set", "json_type", "json_valid", "julianday", "lag", "last_insert_rowid", "last_value",
    "lead", "length", "like", "likelihood", "likely", "ln", "log", "log10", "log2", "lower",
    "ltrim", "max", "min", "mod", "nth_value", "ntile", "nullif", "percent_rank", "pi", "pow",
    "power", "printf", "quote", "radians", "random", "randomblob", "rank", "replace", "round",
    "row_number", "rtrim", "sign", "sin", "soundex", "sqlite_source_id", "sqlite_version", "sqrt",
    "strftime", "substr", "substring", "sum", "tan", "time", "total", "total_changes", "trim",
    "trunc", "typeof", "unicode", "unixepoch", "unlikely", "upper", "zeroblob",
};
// clang-format on

bool function_allowed(const char* name) {
    if (name == nullptr) return false;
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return std::find(std::begin(allowed_functions), std::end(allowed_functions), lower) !=
           std::end(allowed_functions);
}

std::string_view action_name(int action) {
    switch (action) {
        case SQLITE_INSERT:
            return "INSERT";
        case SQLITE_UPDATE:
            return "UPDATE";
        case SQLITE_DELETE:
            return "DELETE";
        case SQLITE_PRAGMA:
            return "PRAGMA";
        case SQLITE_ATTACH:
            return "ATTACH";
        case SQLITE_DETACH:
            return "DETACH";
        case SQLITE_TRANSACTION:
            return "a transaction statement";
        case SQLITE_SAVEPOINT:
            return "SAVEPOINT";
        case SQLITE_ANALYZE:
            return "ANALYZE";
        case SQLITE_REINDEX:
            return "REINDEX";
        case SQLITE_ALTER_TABLE:
            return "ALTER TABLE";
        case SQLITE_CREATE_VTABLE:
        case SQLITE_DROP_VTABLE:
            return "a virtual table";
        case SQLITE_CREATE_INDEX:
        case SQLITE_CREATE_TABLE:
        case SQLITE_CREATE_TRIGGER:
        case SQLITE_CREATE_VIEW:
        case SQLITE_CREATE_TEMP_INDEX:
        case SQLITE_CREATE_TEMP_TABLE:
        case SQLITE_CREATE_TEMP_TRIGGER:
        case SQLITE_CREATE_TEMP_VIEW:
            return "CREATE";
        case SQLITE_DROP_INDEX:
        case SQLITE_DROP_TABLE:
        case SQLITE_DROP_TRIGGER:
        case SQLITE_DROP_VIEW:
        case SQLITE_DROP_TEMP_INDEX:
        case SQLITE_DROP_TEMP_TABLE:
        case SQLITE_DROP_TEMP_TRIGGER:
        case SQLITE_DROP_TEMP_VIEW:
            return "DROP";
        default:
            return "this statement";
    }
}

// What the authorizer refused first, for the error message (prepare only says "not
// authorized").
struct guard {
    std::optional<std::string> refused;
};

bool is_schema_table(const char* table) {
    if (table == nullptr) return false;
    std::string_view name(table);
    return name == "sqlite_master" || name == "sqlite_schema";
}

int authorize(void* context, int action, const char* a, const char* b, const char* /*db*/,
              const char* /*inner*/) {
    auto* state = static_cast<guard*>(context);
    switch (action) {
        case SQLITE_SELECT:
        case SQLITE_RECURSIVE:
            return SQLITE_OK;
        case SQLITE_READ:
            // pragma_table_info() and friends run a PRAGMA, some of which write.
            if (a != nullptr && std::string_view(a).rfind("pragma_", 0) == 0) {
                if (!state->refused) state->refused = "PRAGMA functions are not allowed";
                return SQLITE_DENY;
            }
            return SQLITE_OK;
        case SQLITE_FUNCTION:
            if (function_allowed(b)) return SQLITE_OK;
            if (!state->refused)
                state->refused = "function " + std::string(b ? b : "?") + "() is not allowed";
            return SQLITE_DENY;
        case SQLITE_UPDATE:
            // Naming a table-valued function (json_each) makes SQLite register it in the
            // schema in memory, authorized as an UPDATE of sqlite_master. Real writes are
            // still refused: the statement must be read-only (checked after prepare) and the
            // connection cannot write.
            if (is_schema_table(a)) return SQLITE_OK;
            break;
        default:
            break;
    }
    if (!state->refused) {
        // CREATE, DROP and ALTER first ask to change the schema table itself.
        state->refused = is_schema_table(a) || (a && std::string_view(a) == "sqlite_temp_master")
                             ? "changing the schema (CREATE, DROP, ALTER) is not allowed"
                             : std::string(action_name(action)) + " is not allowed";
    }
    return SQLITE_DENY;
}

using deadline = std::chrono::steady_clock::time_point;

// Called every few thousand virtual machine steps; non-zero interrupts the statement.
int past_deadline(void* context) {
    return std::chrono::steady_clock::now() >= *static_cast<const deadline*>(context) ? 1 : 0;
}

void configure(sqlite3* db, guard& state) {
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, static_cast<int>(max_sql_bytes));
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 16 << 20);  // one value: zeroblob(1e9) is refused
    sqlite3_set_authorizer(db, authorize, &state);
}

query_outcome refused(std::string message) {
    return {false, "query_refused", std::move(message), {}};
}

std::string hex(const unsigned char* data, int size) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(static_cast<std::size_t>(size) * 2);
    for (int i = 0; i < size; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 0x0f];
    }
    return out;
}

// The value and how many bytes it adds to the answer (for max_bytes).
std::pair<boost::json::value, std::size_t> column_value(sqlite3_stmt* stmt, int column) {
    switch (sqlite3_column_type(stmt, column)) {
        case SQLITE_INTEGER:
            return {sqlite3_column_int64(stmt, column), 8};
        case SQLITE_FLOAT: {
            double value = sqlite3_column_double(stmt, column);
            // JSON has no infinity; SQLite stores no NaN.
            if (!std::isfinite(value)) return {nullptr, 8};
            return {value, 8};
        }
        case SQLITE_TEXT: {
            auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
            auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt, column));
            return {boost::json::string(text ? std::string_view(text, size) : ""), size};
        }
        case SQLITE_BLOB: {
            auto* blob = static_cast<const unsigned char*>(sqlite3_column_blob(stmt, column));
            int size = sqlite3_column_bytes(stmt, column);
            return {boost::json::string(blob ? hex(blob, size) : ""),
                    static_cast<std::size_t>(size) * 2};
        }
        default:
            return {nullptr, 4};
    }
}

query_outcome error_outcome(sqlite3* db, int rc) {
    if ((rc & 0xff) == SQLITE_INTERRUPT)
        return {false, "query_timeout", "the query ran past its time limit and was stopped", {}};
    return refused(sqlite3_errmsg(db));
}

// Steps the prepared statement into result rows.
query_outcome collect_rows(sqlite3* db, sqlite3_stmt* stmt, const query_limits& limits) {
    boost::json::array columns;
    int count = sqlite3_column_count(stmt);
    for (int i = 0; i < count; ++i) {
        const char* name = sqlite3_column_name(stmt, i);
        columns.emplace_back(name ? name : "");
    }
    boost::json::array rows;
    bool truncated = false;
    std::size_t bytes = 0;
    for (;;) {
        int rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) return error_outcome(db, rc);
        if (rows.size() >= limits.max_rows || bytes >= limits.max_bytes) {
            truncated = true;
            break;
        }
        boost::json::array row;
        row.reserve(static_cast<std::size_t>(count));
        // Counted per value, not per row: one row of many large values could otherwise
        // exhaust memory before the byte cap is looked at.
        for (int i = 0; i < count && bytes < limits.max_bytes; ++i) {
            auto [value, size] = column_value(stmt, i);
            row.push_back(std::move(value));
            bytes += size;
        }
        if (row.size() < static_cast<std::size_t>(count)) {
            truncated = true;  // a partial row is not returned
            break;
        }
        rows.push_back(std::move(row));
    }
    query_outcome outcome{true, "", "", {}};
    outcome.result["columns"] = std::move(columns);
    outcome.result["rows"] = std::move(rows);
    outcome.result["truncated"] = truncated;
    return outcome;
}

bool only_whitespace_or_semicolons(std::string_view s) {
    return s.find_first_not_of(" \t\r\n\f\v;") == std::string_view::npos;
}

struct statement_deleter {
    void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};

// Whether the text after the first statement holds another one (comments and semicolons do
// not count). Preparing it is the only reliable test; the authorizer still guards it.
// Only the first statement ever runs; this is about refusing what the user meant to run too.
bool has_another_statement(sqlite3* db, std::string_view sql, const char* tail) {
    const char* end = sql.data() + sql.size();
    while (tail < end) {
        auto rest = static_cast<std::size_t>(end - tail);
        if (only_whitespace_or_semicolons(std::string_view(tail, rest))) return false;
        sqlite3_stmt* raw = nullptr;
        const char* next_tail = nullptr;
        int rc = sqlite3_prepare_v2(db, tail, static_cast<int>(rest), &raw, &next_tail);
        std::unique_ptr<sqlite3_stmt, statement_deleter> next(raw);
        if (rc != SQLITE_OK || next != nullptr) return true;
        if (next_tail == nullptr || next_tail <= tail) return false;  // only comments were left
        tail = next_tail;
    }
    return false;
}

}  // namespace

query_outcome run_readonly_query(const std::filesystem::path& db_file, std::string_view sql,
                                 const query_limits& limits) {
    if (only_whitespace_or_semicolons(sql)) return refused("sql: empty query");
    if (sql.size() > max_sql_bytes) return refused("sql: longer than 1 MiB");
    std::optional<sqlite_database> db;
    try {
        db.emplace(db_file, sqlite_open::read_only);
    } catch (const sqlite_error& e) {
        return {false, "internal", e.what(), {}};
    }
    sqlite3* handle = db->handle();
    guard state;
    configure(handle, state);
    // The time limit covers waiting for a lock too (a DELETE-journal CMDB being written).
    deadline stop_at = std::chrono::steady_clock::now() + limits.time;
    sqlite3_busy_timeout(handle,
                         static_cast<int>(std::min<long long>(limits.time.count(), 1 << 30)));
    sqlite3_progress_handler(handle, 1000, past_deadline, &stop_at);

    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(handle, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
    std::unique_ptr<sqlite3_stmt, statement_deleter> stmt(raw);
    if (rc != SQLITE_OK) {
        // What the authorizer denied is the reason, whatever error the parser ended with.
        if (state.refused) return refused(*state.refused);
        return error_outcome(handle, rc);
    }
    if (!stmt) return refused("sql: no statement (only a comment?)");
    if (has_another_statement(handle, sql, tail))
        return refused("only one statement is allowed; found more after the first");
    if (!sqlite3_stmt_readonly(stmt.get()))
        return refused("only a read-only statement (SELECT) is allowed");
    return collect_rows(handle, stmt.get(), limits);
}

}  // namespace muster::collector
