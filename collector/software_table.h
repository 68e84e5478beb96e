#pragma once
// A CI's software, stored normalized (docs/cmdb.md, "Software"): each distinct package
// (source, name, arch, version, vendor, size_bytes) is one row of software_packages, shared
// by every CI that has it, and a CI's software is its rows of ci_software_installs (the CI,
// the package, the install time). The view ci_software joins them back into the rows of the
// software section. A CI holds one package per key (source, name, arch), as its state does.
// Runs on the writer connection inside ingest's transaction; SQLite errors propagate.
#include "collector/agent_state.h"
#include "collector/statement_cache.h"

#include <boost/json.hpp>

#include <cstdint>

namespace muster::collector {

// Rows of the software section. fresh: the CI has none of these keys yet (a new CI, or one
// whose software was just removed whole), so nothing is looked up to replace.
void insert_software(statement_cache& sql, std::int64_t ci_id, const row_pointers& rows,
                     bool fresh);

// Keys as the state writes them, [source, name, arch]; others are ignored.
void remove_software(statement_cache& sql, std::int64_t ci_id, const boost::json::array& keys);

void remove_all_software(statement_cache& sql, std::int64_t ci_id);

}  // namespace muster::collector
