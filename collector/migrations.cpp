#include "collector/migrations.h"

#include "collector/admin/schema.h"
#include "collector/agent_state.h"
#include "collector/incidents/schema.h"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace muster::collector {

namespace {

// Version 1. Index choices (docs/cmdb.md, "Indexes"):
// - row tables are WITHOUT ROWID with the CI first in the primary key, so one host's rows are
//   contiguous and a delta touches one B-tree range;
// - fleet-wide questions get their own index led by the thing asked about: software by
//   name, interfaces by MAC, addresses by address, listening ports by port;
// - identity columns are indexed for reconciliation, which looks a CI up by them;
// - history is read per CI by time and pruned by time.
constexpr std::string_view schema_v1 = R"sql(
CREATE TABLE cis (
    id INTEGER PRIMARY KEY,
    hostname TEXT,
    fqdn TEXT,
    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'stale', 'retired')),
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    matched_rule TEXT NOT NULL,
    current_agent_id TEXT,
    duplicate_identity INTEGER NOT NULL DEFAULT 0,
    duplicate_of INTEGER REFERENCES cis(id),
    held INTEGER NOT NULL DEFAULT 0,
    product_uuid TEXT,
    serial TEXT,
    machine_id TEXT,
    primary_mac TEXT,
    container TEXT,
    virtualization TEXT,
    timezone TEXT,
    tags TEXT,
    hw_vendor TEXT,
    hw_product TEXT,
    hw_serial TEXT,
    hw_product_uuid TEXT,
    bios_version TEXT,
    chassis_type TEXT,
    os_id TEXT,
    os_name TEXT,
    os_version_id TEXT,
    os_pretty_name TEXT,
    kernel_release TEXT,
    arch TEXT,
    cpu_model TEXT,
    cpu_sockets INTEGER,
    cpu_physical_cores INTEGER,
    cpu_logical_cores INTEGER,
    memory_total_bytes INTEGER,
    swap_total_bytes INTEGER,
    default_gateways TEXT,
    dns_servers TEXT
);
CREATE INDEX cis_uuid_serial ON cis (product_uuid, serial) WHERE product_uuid IS NOT NULL;
CREATE INDEX cis_serial ON cis (serial) WHERE serial IS NOT NULL;
CREATE INDEX cis_machine_id ON cis (machine_id) WHERE machine_id IS NOT NULL;
CREATE INDEX cis_hostname ON cis (hostname);
CREATE INDEX cis_state_last_seen ON cis (state, last_seen);

CREATE TABLE agents (
    agent_id TEXT PRIMARY KEY,
    public_key BLOB NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),
    enrolled_at INTEGER NOT NULL,
    hostname TEXT,
    machine_id TEXT,
    product_uuid TEXT,
    serial TEXT,
    last_seq INTEGER NOT NULL DEFAULT 0,
    last_body_sha256 TEXT NOT NULL DEFAULT '',
    last_ack TEXT NOT NULL DEFAULT '',
    last_report_at INTEGER,
    ci_id INTEGER REFERENCES cis(id)
);
CREATE INDEX agents_ci ON agents (ci_id);

-- The state the agent's next delta applies to: one row per section, the canonical JSON of
-- the section gzip-compressed, so a delta rewrites only the sections it changes.
CREATE TABLE agent_states (
    agent_id TEXT PRIMARY KEY REFERENCES agents(agent_id),
    seq INTEGER NOT NULL,
    state_hash TEXT NOT NULL
);
CREATE TABLE agent_state_sections (
    agent_id TEXT NOT NULL,
    section TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (agent_id, section)
) WITHOUT ROWID;

CREATE TABLE ci_software (
    ci_id INTEGER NOT NULL,
    source TEXT,
    name TEXT,
    arch TEXT,
    version TEXT,
    vendor TEXT,
    installed_at TEXT,
    size_bytes INTEGER,
    PRIMARY KEY (ci_id, source, name, arch)
) WITHOUT ROWID;
CREATE INDEX ci_software_name ON ci_software (name, version);

CREATE TABLE ci_interfaces (
    ci_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    mac TEXT,
    mtu INTEGER,
    state TEXT,
    speed_mbps INTEGER,
    type TEXT,
    PRIMARY KEY (ci_id, name)
) WITHOUT ROWID;
CREATE INDEX ci_interfaces_mac ON ci_interfaces (mac) WHERE mac IS NOT NULL;

CREATE TABLE ci_addresses (
    ci_id INTEGER NOT NULL,
    interface TEXT NOT NULL,
    address TEXT NOT NULL,
    family TEXT,
    prefix INTEGER,
    PRIMARY KEY (ci_id, interface, address)
) WITHOUT ROWID;
CREATE INDEX ci_addresses_address ON ci_addresses (address);

CREATE TABLE ci_disks (
    ci_id INTEGER NOT NULL,
    name TEXT,
    model TEXT,
    serial TEXT,
    wwn TEXT,
    size_bytes INTEGER,
    rotational INTEGER,
    removable INTEGER,
    type TEXT,
    PRIMARY KEY (ci_id, name)
) WITHOUT ROWID;
CREATE INDEX ci_disks_serial ON ci_disks (serial) WHERE serial IS NOT NULL;

CREATE TABLE ci_filesystems (
    ci_id INTEGER NOT NULL,
    mountpoint TEXT,
    device TEXT,
    type TEXT,
    total_bytes INTEGER,
    read_only INTEGER,
    PRIMARY KEY (ci_id, mountpoint)
) WITHOUT ROWID;

CREATE TABLE ci_services (
    ci_id INTEGER NOT NULL,
    name TEXT,
    load_state TEXT,
    active_state TEXT,
    sub_state TEXT,
    enabled TEXT,
    PRIMARY KEY (ci_id, name)
) WITHOUT ROWID;
CREATE INDEX ci_services_name ON ci_services (name);

CREATE TABLE ci_listening_ports (
    ci_id INTEGER NOT NULL,
    protocol TEXT,
    address TEXT,
    port INTEGER,
    family TEXT,
    pid INTEGER,
    process TEXT,
    PRIMARY KEY (ci_id, protocol, address, port)
) WITHOUT ROWID;
CREATE INDEX ci_listening_ports_port ON ci_listening_ports (port, protocol);

CREATE TABLE ci_users (
    ci_id INTEGER NOT NULL,
    name TEXT,
    uid INTEGER,
    gid INTEGER,
    home TEXT,
    shell TEXT,
    PRIMARY KEY (ci_id, name)
) WITHOUT ROWID;
CREATE INDEX ci_users_name ON ci_users (name);

CREATE TABLE ci_history (
    id INTEGER PRIMARY KEY,
    ci_id INTEGER NOT NULL,
    time INTEGER NOT NULL,
    section TEXT NOT NULL,
    key TEXT NOT NULL,
    change TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    agent_id TEXT,
    seq INTEGER
);
CREATE INDEX ci_history_ci_time ON ci_history (ci_id, time);
CREATE INDEX ci_history_time ON ci_history (time);
)sql";

// Version 4: views for the SQL console (docs/cmdb.md, "Views for the SQL console"). Plain
// views over the tables, so a question is one short SELECT; they store nothing and cost
// nothing on ingest.
constexpr std::string_view console_views = R"sql(
CREATE VIEW v_hosts AS
SELECT id, hostname, fqdn, state, os_pretty_name AS os, os_id, os_version_id AS os_version,
       kernel_release AS kernel, arch, hw_vendor AS vendor, hw_product AS product, serial,
       product_uuid, machine_id, primary_mac, virtualization, container, tags, cpu_model,
       cpu_logical_cores, memory_total_bytes, first_seen, last_seen,
       current_agent_id AS agent_id, duplicate_identity, held
FROM cis;

CREATE VIEW v_software AS
SELECT c.hostname AS host, s.ci_id, s.name, s.version, s.source, s.arch, s.vendor,
       s.installed_at, s.size_bytes
FROM ci_software s JOIN cis c ON c.id = s.ci_id;

CREATE VIEW v_addresses AS
SELECT c.hostname AS host, a.ci_id, a.interface, i.mac, a.address, a.family, a.prefix
FROM ci_addresses a JOIN cis c ON c.id = a.ci_id
LEFT JOIN ci_interfaces i ON i.ci_id = a.ci_id AND i.name = a.interface;

CREATE VIEW v_listening_ports AS
SELECT c.hostname AS host, p.ci_id, p.protocol, p.address, p.port, p.family, p.pid, p.process
FROM ci_listening_ports p JOIN cis c ON c.id = p.ci_id;

CREATE VIEW v_services AS
SELECT c.hostname AS host, s.ci_id, s.name, s.active_state, s.sub_state, s.enabled,
       s.load_state
FROM ci_services s JOIN cis c ON c.id = s.ci_id;

CREATE VIEW v_open_incidents AS
SELECT i.id, c.hostname AS host, i.ci_id, i.check_id AS "check", i.check_type,
       'P' || i.priority AS priority, i.state, i.status, i.title, i.message, i.value, i.unit,
       i.service, i.owner, i.count, i.opened_at, i.updated_at, i.acknowledged_at,
       i.response_due, i.resolution_due, i.response_breached, i.resolution_breached,
       i.flapping, i.problem_id
FROM incidents i JOIN cis c ON c.id = i.ci_id
WHERE i.state IN ('new', 'acknowledged');
)sql";

// Version 5: the state each agent's next delta applies to, uncompressed, its row sections in
// blocks of rows (collector/agent_state.h), so that a delta reads and rewrites a few KB.
// The gzip-compressed sections of version 1 are moved across by code (migration_steps).
constexpr std::string_view agent_state_blocks = R"sql(
CREATE TABLE agent_state_values (
    agent_id TEXT NOT NULL,
    section TEXT NOT NULL,
    body TEXT,
    PRIMARY KEY (agent_id, section)
) WITHOUT ROWID;
CREATE TABLE agent_state_blocks (
    agent_id TEXT NOT NULL,
    section TEXT NOT NULL,
    first_key TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (agent_id, section, first_key)
) WITHOUT ROWID;
)sql";

// Version 6: the blocks in a rowid table with a unique index on their key. In a WITHOUT ROWID
// table every interior B-tree cell holds a whole row, so rows of a kilobyte left four or five
// children per interior page and a tree that deepens quickly with the fleet; here interior
// cells are rowids and the index holds the keys alone. Blocks keep their rowid when a delta
// rewrites them (an upsert), so an agent's blocks stay on the pages they were written to
// together. The rows are copied by move_blocks_to_rowid_table below.
constexpr std::string_view agent_state_blocks_by_rowid = R"sql(
ALTER TABLE agent_state_blocks RENAME TO agent_state_blocks_v5;
CREATE TABLE agent_state_blocks (
    id INTEGER PRIMARY KEY,
    agent_id TEXT NOT NULL,
    section TEXT NOT NULL,
    first_key TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX agent_state_blocks_key ON agent_state_blocks (agent_id, section, first_key);
)sql";

// Runs copy_sql once for each key keys_sql selects, the key bound as ?1. One INSERT ...
// SELECT of a whole table held every page it wrote in SQLite's statement journal, in memory
// (temp_store = MEMORY): 1.4 GB at 6,000 hosts for the blocks of version 5, 340 MB at 1,000;
// a statement per agent, 82 MB at 1,000. Its statements are finalized when it returns, so
// the table copied from can be dropped after.
template <typename Key>
void copy_key_by_key(sqlite_database& db, std::string_view keys_sql, std::string_view copy_sql) {
    std::vector<Key> keys;
    {
        auto select = db.prepare(keys_sql);
        while (select.step()) {
            if constexpr (std::is_same_v<Key, std::string>) {
                keys.push_back(select.column_text(0));
            } else {
                keys.push_back(select.column_int64(0));
            }
        }
    }
    auto copy = db.prepare(copy_sql);
    for (const auto& key : keys) {
        copy.reset();
        copy.bind(1, key);
        copy.step();
    }
}

// Copies the blocks agent by agent, then empties and drops the old table.
void move_blocks_to_rowid_table(sqlite_database& db) {
    copy_key_by_key<std::string>(
        db, "SELECT DISTINCT agent_id FROM agent_state_blocks_v5",
        "INSERT INTO agent_state_blocks (agent_id, section, first_key, body) "
        "SELECT agent_id, section, first_key, body FROM agent_state_blocks_v5 "
        "WHERE agent_id = ?1 ORDER BY section, first_key");
    db.exec("DELETE FROM agent_state_blocks_v5");
    db.exec("DROP TABLE agent_state_blocks_v5");
}

// Version 7: software normalized. Each distinct package (source, name, arch, version, vendor,
// size) is one row of software_packages, and a CI's software is its installs, pairs of small
// integers with the install time. The inverted index a fleet-wide question needs, package to
// CIs, then holds entries of a few bytes instead of every row's name, version and key: a new
// host adds some 900 entries across that index, and the index of version 6 on
// ci_software (name, version) was half of a full report's cost and of the bytes it wrote
// (docs/benchmarks.md). ci_software stays, as a view with the columns and names of the
// table it replaces, for the admin queries and the SQL console. The rows are moved by
// normalize_software below.
constexpr std::string_view software_normalized = R"sql(
DROP VIEW v_software;
ALTER TABLE ci_software RENAME TO ci_software_v6;
CREATE TABLE software_packages (
    id INTEGER PRIMARY KEY,
    source TEXT,
    name TEXT,
    arch TEXT,
    version TEXT,
    vendor TEXT,
    size_bytes INTEGER
);
CREATE INDEX software_packages_name
    ON software_packages (name, version, source, arch, vendor, size_bytes);
CREATE TABLE ci_software_installs (
    ci_id INTEGER NOT NULL,
    package_id INTEGER NOT NULL REFERENCES software_packages(id),
    installed_at TEXT,
    PRIMARY KEY (ci_id, package_id)
) WITHOUT ROWID;
CREATE VIEW ci_software AS
SELECT i.ci_id, p.source, p.name, p.arch, p.version, p.vendor, i.installed_at, p.size_bytes
FROM ci_software_installs i JOIN software_packages p ON p.id = i.package_id;
CREATE VIEW v_software AS
SELECT c.hostname AS host, s.ci_id, s.name, s.version, s.source, s.arch, s.vendor,
       s.installed_at, s.size_bytes
FROM ci_software s JOIN cis c ON c.id = s.ci_id;
)sql";

// The distinct packages in one statement (a few thousand rows in a fleet), then the installs
// CI by CI. The package index is built after the installs are in, in one ordered pass.
void normalize_software(sqlite_database& db) {
    db.exec(
        "INSERT INTO software_packages (source, name, arch, version, vendor, size_bytes) "
        "SELECT DISTINCT source, name, arch, version, vendor, size_bytes FROM ci_software_v6 "
        "ORDER BY name, version, source, arch");
    copy_key_by_key<std::int64_t>(
        db, "SELECT DISTINCT ci_id FROM ci_software_v6",
        "INSERT INTO ci_software_installs (ci_id, package_id, installed_at) "
        "SELECT s.ci_id, p.id, s.installed_at FROM ci_software_v6 s "
        "JOIN software_packages p ON p.name IS s.name AND p.version IS s.version AND "
        "p.source IS s.source AND p.arch IS s.arch AND p.vendor IS s.vendor AND "
        "p.size_bytes IS s.size_bytes WHERE s.ci_id = ?1");
    db.exec("CREATE INDEX ci_software_installs_package ON ci_software_installs (package_id)");
    db.exec("DELETE FROM ci_software_v6");
    db.exec("DROP TABLE ci_software_v6");
}

constexpr std::string_view migrations[] = {
    schema_v1,          incidents::schema_v2,        admin::schema_v3,   console_views,
    agent_state_blocks, agent_state_blocks_by_rowid, software_normalized};

// What SQL alone cannot do, run after the SQL of its version in the same transaction.
struct migration_step {
    int version;
    void (*run)(sqlite_database&);
};
constexpr migration_step migration_steps[] = {
    {5, &convert_compressed_states}, {6, &move_blocks_to_rowid_table}, {7, &normalize_software}};

}  // namespace

int latest_schema_version() {
    return static_cast<int>(std::size(migrations));
}

int schema_version(sqlite_database& db) {
    auto statement = db.prepare("PRAGMA user_version");
    statement.step();
    return static_cast<int>(statement.column_int64(0));
}

void migrate(sqlite_database& db) {
    migrate_to(db, latest_schema_version());
}

void migrate_to(sqlite_database& db, int version) {
    int current = schema_version(db);
    if (current > latest_schema_version()) {
        throw std::runtime_error("the CMDB schema is version " + std::to_string(current) +
                                 ", newer than this collector's " +
                                 std::to_string(latest_schema_version()));
    }
    for (int next = current + 1; next <= std::min(version, latest_schema_version()); ++next) {
        sqlite_transaction transaction(db, sqlite_transaction_mode::exclusive);
        db.exec(migrations[next - 1]);
        for (const auto& step : migration_steps) {
            if (step.version == next) step.run(db);
        }
        db.exec("PRAGMA user_version = " + std::to_string(next));
        transaction.commit();
    }
}

}  // namespace muster::collector
