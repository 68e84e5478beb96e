#pragma once
// Schema version 3 of the CMDB: what the admin API keeps and needs (docs/api.md). Applied by
// collector/migrations.cpp, which lists every version.
#include <string_view>

namespace muster::collector::admin {

// - api_tokens: tokens made with POST /api/v1/tokens, only their SHA-256 kept;
// - indexes for the API's keyset orders: agents by enrollment, a host's history by id
//   (newest first), a problem's incidents.
inline constexpr std::string_view schema_v3 = R"sql(
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX agents_enrolled ON agents (enrolled_at, agent_id);
CREATE INDEX ci_history_ci_id ON ci_history (ci_id, id);
CREATE INDEX incidents_problem ON incidents (problem_id) WHERE problem_id IS NOT NULL;
)sql";

}  // namespace muster::collector::admin
