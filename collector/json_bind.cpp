#include "collector/json_bind.h"

#include <sqlite3.h>

#include <limits>
#include <string>

namespace muster::collector {

namespace json = boost::json;

void bind_in_place(sqlite_statement& statement, int index, std::string_view text) {
    if (text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        throw sqlite_error(SQLITE_TOOBIG, "value too large to bind");
    }
    int rc = sqlite3_bind_text(statement.handle(), index, text.data(),
                               static_cast<int>(text.size()), SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        throw sqlite_error(rc, std::string("bind: ") + sqlite3_errstr(rc));
    }
}

void bind_json(sqlite_statement& statement, int index, const json::value* value) {
    if (!value || value->is_null()) {
        statement.bind(index, nullptr);
    } else if (value->is_string()) {
        bind_in_place(statement, index, value->get_string());
    } else if (value->is_int64()) {
        statement.bind(index, value->get_int64());
    } else if (value->is_uint64()) {
        statement.bind(index, static_cast<double>(value->get_uint64()));
    } else if (value->is_bool()) {
        statement.bind(index, value->get_bool() ? 1 : 0);
    } else if (value->is_double()) {
        statement.bind(index, value->get_double());
    } else {
        statement.bind(index, json::serialize(*value));
    }
}

}  // namespace muster::collector
