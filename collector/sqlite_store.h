#pragma once
// The SQLite implementation of cmdb_store, the default CMDB (docs/cmdb.md).
//
// Thread-safety: every method may be called from any thread at any time. Writes (enroll,
// status changes, ingest, staleness, pruning) share one connection guarded by a mutex, so
// they are serialized; ingest commits a whole batch in one transaction (group commit), and
// the caller batches reports from many connections into one ingest() call. find_agent uses a
// separate read connection under its own mutex, so the signature check of a new request
// never waits for a batch being written (WAL lets it read the last committed state).
// backup_to opens its own connection.
//
// The database file is opened in WAL mode with synchronous=FULL: when ingest returns, the
// batch is on disk, so an acknowledged report survives a crash of the process or the host.
// The schema is created or migrated when the store is opened.
//
// Hostile input: a report's document comes from the network (after its signature was
// checked). ingest never throws for anything in a document; whatever does not follow
// docs/protocol.md is a malformed result and leaves the database as it was. It throws only
// for database failures (sqlite_error), and then the whole batch is rolled back.
#include "collector/incidents/settings.h"
#include "collector/store.h"

#include <filesystem>
#include <memory>

namespace muster::collector {

// incident_settings: the incident engine's rules (collector.yaml `incidents:`, `services:`).
std::unique_ptr<cmdb_store> open_sqlite_store(
    const std::filesystem::path& db_file,
    const incidents::incident_settings& incident_settings = {});

}  // namespace muster::collector
