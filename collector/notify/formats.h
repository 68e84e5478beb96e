#pragma once
// Renders one outbox row (contracts C3: event, dedup_key, neutral payload) as the body a
// webhook expects: generic JSON, PagerDuty Events API v2 or Slack-compatible text. Pure
// functions, so each format is tested without a network.
//
// Error policy: never throws for anything in a payload; a field that is missing or of the
// wrong type renders as empty (the payload is ours, but a bad row must not stop delivery).
#include "collector/notify/settings.h"

#include <boost/json.hpp>

#include <cstdint>
#include <string>

namespace muster::collector::notify {

struct outbox_row {
    std::int64_t id = 0;
    std::int64_t incident_id = 0;
    std::string event;  // trigger | acknowledge | resolve
    std::string dedup_key;
    boost::json::object payload;  // {"event": ..., "incident": {...}}
    std::int64_t created_at = 0;
};

// The HTTP request body (JSON text) for hook.
std::string render(const webhook& hook, const outbox_row& row);

// PagerDuty's severity for an incident: P1 critical, P2 error, P3 warning, P4 info; an
// incident whose status is "warning" is at most warning.
std::string pagerduty_severity(const boost::json::object& incident);

// "2025-11-30T00:00:00Z"
std::string iso8601_utc(std::int64_t unix_seconds);

}  // namespace muster::collector::notify
