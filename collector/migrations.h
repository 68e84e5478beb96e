#pragma once
// The CMDB schema, versioned. Each migration takes the database from version N-1 to N in one
// transaction; PRAGMA user_version records the version reached. A database newer than this
// program is refused rather than misread. docs/cmdb.md describes the tables.
#include "common/sqlite.h"

namespace muster::collector {

// The version this program writes.
int latest_schema_version();

// The version the database is at (0 for a new file).
int schema_version(sqlite_database& db);

// Applies every missing migration. Throws sqlite_error on failure and std::runtime_error when
// the database is newer than this program.
void migrate(sqlite_database& db);

// The same, up to the given version only (tests build databases of older versions with it).
void migrate_to(sqlite_database& db, int version);

}  // namespace muster::collector
