#pragma once
// The SQL console behind POST /api/v1/query: one read-only statement on its own read-only
// connection to the CMDB, for the questions no endpoint foresaw.
//
// Defence in depth: the connection is opened SQLITE_OPEN_READONLY, with extension loading
// off and SQLITE_DBCONFIG_DEFENSIVE on; an authorizer denies everything but reading
// (no writes, ATTACH, DETACH, PRAGMA, temp objects, unsafe functions); a progress handler
// stops a statement at the time limit; rows past max_rows are dropped (truncated = true).
//
// Error policy: never throws for anything the caller's SQL does. A refused or failing query is
// a query_outcome with ok = false and code "query_refused" or "query_timeout" (both answered
// 400) or "internal" (the CMDB file cannot be opened: 500). Only std::bad_alloc escapes.
//
// Values in rows: INTEGER -> JSON integer, REAL -> JSON number, TEXT -> string, NULL -> null,
// BLOB -> string, lower-case hex (no prefix).
#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace muster::collector {

struct query_limits {
    std::chrono::milliseconds time{5000};
    std::size_t max_rows = 10000;
    // Rows stop (truncated) once the values returned reach this many bytes.
    std::size_t max_bytes = 64 * 1024 * 1024;
};

struct query_outcome {
    bool ok = false;
    std::string code;     // "" when ok; else "query_refused" | "query_timeout" | "internal"
    std::string message;  // why, for the error body
    // {"columns": ["name", ...], "rows": [[...], ...], "truncated": bool} when ok.
    boost::json::object result;
};

query_outcome run_readonly_query(const std::filesystem::path& db, std::string_view sql,
                                 const query_limits& limits = {});

}  // namespace muster::collector
