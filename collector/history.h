#pragma once
// Change records: what changed on a CI between two states, one record per fact an admin
// asks about ("openssl upgraded from 3.0.11 to 3.0.13", "eth0 lost 10.0.0.5/24", "renamed
// from web-1 to web-2"). Built from the same old and new sections that drive the updates of
// the CI's tables, so the history and the tables never disagree.
#include "collector/statement_cache.h"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace muster::collector {

struct change_record {
    std::string section;  // a state section, "interfaces", "addresses", or "ci"
    std::string key;      // the row key ("deb/openssl/amd64"), attribute path or interface
    std::string change;   // added, removed, changed, installed, upgraded, downgraded, renamed,
                          // discovered, attached, duplicate
    std::optional<std::string> old_value;
    std::optional<std::string> new_value;
};

// The records for the sections named in changed (a compute_changes result, or a delta's
// changes that applied to old_sections), comparing old_sections with new_sections. A row
// section's added/changed/removed lists limit the comparison to the rows they name.
std::vector<change_record> describe_changes(const boost::json::object& old_sections,
                                            const boost::json::object& new_sections,
                                            const boost::json::object& changed);

struct history_origin {
    std::int64_t ci_id = 0;
    std::int64_t time = 0;
    std::string_view agent_id;
    std::int64_t seq = 0;
};

void write_history(statement_cache& sql, const history_origin& origin,
                   const std::vector<change_record>& records);

}  // namespace muster::collector
