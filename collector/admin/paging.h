#pragma once
// Keyset paging helpers shared by the SQLite queries: reading the previous page's last key and
// collecting one page of rows (limit items, plus one row read only to learn that a next page
// exists).
//
// Error policy: a key of the wrong shape throws invalid_key (queries.h).
#include "collector/admin/queries.h"
#include "common/sqlite.h"

#include <boost/json.hpp>

#include <cstdint>
#include <string>

namespace muster::collector::admin {

inline std::int64_t key_int(const page_request& request, std::size_t index, std::int64_t fallback) {
    if (!request.after) return fallback;
    if (request.after->size() <= index || !(*request.after)[index].is_int64()) {
        throw invalid_key("the cursor does not belong to this list");
    }
    return (*request.after)[index].get_int64();
}

inline std::string key_string(const page_request& request, std::size_t index) {
    if (!request.after) return {};
    if (request.after->size() <= index || !(*request.after)[index].is_string()) {
        throw invalid_key("the cursor does not belong to this list");
    }
    return std::string((*request.after)[index].get_string());
}

template <typename Read, typename Key>
page collect(sqlite_statement& select, std::size_t limit, Read read, Key key_of) {
    page out;
    while (select.step()) {
        if (out.items.size() == limit) {
            out.next_key = key_of(out.items.back().as_object());
            break;
        }
        out.items.push_back(read(select));
    }
    return out;
}

inline boost::json::array id_key(const boost::json::object& item) {
    return boost::json::array{item.at("id")};
}

}  // namespace muster::collector::admin
