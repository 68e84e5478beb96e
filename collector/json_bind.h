#pragma once
// JSON values bound as SQL parameters, the one mapping the normalized tables use: strings as
// text, integers as integers (an unsigned one past int64 as a real), booleans as 0 and 1,
// null or missing as NULL, arrays and objects as their JSON text.
#include "common/sqlite.h"

#include <boost/json.hpp>

#include <string_view>

namespace muster::collector {

// Text bound where it lies, not copied (SQLITE_STATIC): the caller keeps it alive until the
// statement's bindings are cleared, as statement_cache does when a use ends. A full report
// binds some 4,500 strings, and the copies were a tenth of its cost.
void bind_in_place(sqlite_statement& statement, int index, std::string_view text);

// value may be nullptr (a missing field). Strings are bound in place.
void bind_json(sqlite_statement& statement, int index, const boost::json::value* value);

}  // namespace muster::collector
