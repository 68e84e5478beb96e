#pragma once
// Building a report (docs/protocol.md, "Reports"): the state of an inventory, full or as the
// changes since the previous report's state, as JSON, gzip-compressed and signed over the
// compressed bytes.
#include "agent/wire/spool.h"
#include "common/crypto.h"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace muster::agent::wire {

inline constexpr int protocol_version = 1;

struct report_input {
    const ed25519_key* key = nullptr;
    std::string agent_id;
    std::uint64_t seq = 0;
    std::int64_t sent_at = 0;   // Unix seconds
    boost::json::object state;  // make_state of the inventory
    // The state of the previous report in send order; none for a full report.
    const boost::json::object* base_state = nullptr;
    std::uint64_t base_seq = 0;
    // Health check results made since the previous report, oldest first (docs/protocol.md,
    // "Health checks"), and the longest the agent means to go without a report, in seconds.
    std::optional<boost::json::array> checks;
    std::optional<std::int64_t> expected_interval;
};

struct built_report {
    report_entry entry;
    std::string json;  // the body before compression, for tests and debug logs
};

built_report build_report(const report_input& input);

}  // namespace muster::agent::wire
