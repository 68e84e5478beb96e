#pragma once
// Identity reconciliation: which configuration item an agent's first report belongs to.
// docs/cmdb.md lists the rules; in order, the first rule whose fields the report has decides:
//   1. product UUID together with serial
//   2. serial alone
//   3. machine-id
//   4. hostname together with the primary MAC
// Placeholder values never count (common/placeholder.h), and a container never uses the
// hardware rules (1 and 2): it reports its host's firmware. A report with no usable rule is
// held: it gets a CI of its own that no rule ever matches.
//
// Clones: a matched CI is not taken over when another agent still reports for it with a
// different machine-id (it reported after the new agent enrolled): that is a cloned VM, and
// the new agent gets its own CI flagged as a duplicate identity.
#include "collector/statement_cache.h"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace muster::collector {

struct host_identity {
    std::optional<std::string> product_uuid;
    std::optional<std::string> serial;
    std::optional<std::string> machine_id;
    std::optional<std::string> hostname;
    std::optional<std::string> primary_mac;
    bool in_container = false;
};

// The identity facts of a state, filtered: placeholders removed, hardware ignored in a
// container, the MAC in lower case.
host_identity identity_of(const boost::json::object& state);

// The primary MAC: of the non-loopback interfaces with a real MAC, physical ones first, then
// the first by name.
std::optional<std::string> primary_mac_of(const boost::json::value* network);

enum class identity_rule { product_uuid_serial = 1, serial, machine_id, hostname_mac };

std::string_view to_string(identity_rule rule);

// True when at least one rule can be applied to identity.
bool is_identifiable(const host_identity& identity);

struct ci_match {
    std::int64_t ci_id = 0;
    identity_rule rule = identity_rule::product_uuid_serial;
    bool clone = false;                // matched, but another agent still reports for it
    std::optional<std::string> owner;  // the agent currently reporting for the CI
};

// The CI an agent's first report matches, if any. enrolled_at is the new agent's enrollment
// time, which tells a clone (the other agent reported since) from a reimage (it did not).
std::optional<ci_match> find_matching_ci(statement_cache& sql, const host_identity& identity,
                                         std::string_view agent_id, std::int64_t enrolled_at);

}  // namespace muster::collector
