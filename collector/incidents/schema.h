#pragma once
// Schema version 2 of the CMDB: the incident engine's tables (docs/incidents.md). Applied by
// collector/migrations.cpp, which lists every version.
#include <string_view>

namespace muster::collector::incidents {

// - check_states: what the engine remembers per (CI, check) between results;
// - incidents: one open (new or acknowledged) incident per (CI, check) at most, enforced by a
//   partial unique index; the latest per (CI, check) is found through incidents_ci_check;
// - incident_events: every transition, who and when;
// - problems and their incidents (incidents.problem_id);
// - the notification outbox, exactly as contract C3: the engine INSERTs into
//   notification_outbox in the ingest transaction; the notifier owns notification_deliveries.
inline constexpr std::string_view schema_v2 = R"sql(
ALTER TABLE cis ADD COLUMN expected_interval INTEGER;

CREATE TABLE check_states (
    ci_id INTEGER NOT NULL,
    check_id TEXT NOT NULL,
    check_type TEXT NOT NULL,
    severity TEXT NOT NULL,
    last_status TEXT NOT NULL,
    last_ok INTEGER NOT NULL,
    consecutive_bad INTEGER NOT NULL DEFAULT 0,
    consecutive_ok INTEGER NOT NULL DEFAULT 0,
    changes TEXT NOT NULL DEFAULT '',     -- times of recent ok <-> not-ok changes, "t1 t2 ..."
    last_change_at INTEGER,
    flapping INTEGER NOT NULL DEFAULT 0,
    last_checked_at INTEGER NOT NULL,
    PRIMARY KEY (ci_id, check_id)
) WITHOUT ROWID;
CREATE INDEX check_states_flapping ON check_states (flapping) WHERE flapping = 1;

CREATE TABLE problems (
    id INTEGER PRIMARY KEY,
    ci_id INTEGER NOT NULL REFERENCES cis(id),
    check_id TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    opened_at INTEGER NOT NULL,
    closed_at INTEGER
);
CREATE UNIQUE INDEX problems_one_open ON problems (ci_id, check_id) WHERE state = 'open';

CREATE TABLE incidents (
    id INTEGER PRIMARY KEY,
    ci_id INTEGER NOT NULL REFERENCES cis(id),
    check_id TEXT NOT NULL,
    check_type TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('new', 'acknowledged', 'resolved', 'closed')),
    priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 4),
    impact TEXT NOT NULL,
    urgency TEXT NOT NULL,
    service TEXT,
    owner TEXT,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    value REAL,
    unit TEXT NOT NULL DEFAULT '',
    count INTEGER NOT NULL DEFAULT 1,
    opened_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    acknowledged_at INTEGER,
    resolved_at INTEGER,
    closed_at INTEGER,
    response_due INTEGER NOT NULL,
    resolution_due INTEGER NOT NULL,
    response_breached INTEGER NOT NULL DEFAULT 0,
    resolution_breached INTEGER NOT NULL DEFAULT 0,
    flapping INTEGER NOT NULL DEFAULT 0,
    notifications_held INTEGER NOT NULL DEFAULT 0,
    problem_id INTEGER REFERENCES problems(id),
    reopened_count INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX incidents_one_open ON incidents (ci_id, check_id)
    WHERE state IN ('new', 'acknowledged');
CREATE INDEX incidents_ci_check ON incidents (ci_id, check_id, id);
CREATE INDEX incidents_opened ON incidents (opened_at);
CREATE INDEX incidents_unfinished ON incidents (state) WHERE state IN ('new', 'acknowledged');

CREATE TABLE incident_events (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    time INTEGER NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('opened', 'updated', 'acknowledged', 'resolved',
        'reopened', 'closed', 'comment', 'flapping', 'priority')),
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);

CREATE TABLE notification_outbox (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('trigger', 'acknowledge', 'resolve')),
    dedup_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE notification_deliveries (
    outbox_id INTEGER NOT NULL REFERENCES notification_outbox(id),
    webhook TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at INTEGER,
    failed_at INTEGER,
    last_error TEXT,
    PRIMARY KEY (outbox_id, webhook)
) WITHOUT ROWID;
)sql";

}  // namespace muster::collector::incidents
