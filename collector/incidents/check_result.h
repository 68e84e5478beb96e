#pragma once
// The health check results a report carries (contracts C1; docs/protocol.md, "Health
// checks"), read from the network document.
//
// Error policy: the document is hostile input. read_report_checks checks everything and
// throws std::invalid_argument naming the member ("checks[2].status: ..."); ingest turns that
// into a malformed report, which leaves the database as it was.
#include "collector/incidents/settings.h"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace muster::collector::incidents {

struct check_result {
    std::string id;
    std::string type;
    level severity = level::medium;
    std::string status;  // ok, warning, critical, unknown
    std::string message;
    std::optional<double> value;
    std::string unit;
    std::int64_t checked_at = 0;
    std::int64_t interval = 0;
    std::int64_t duration_ms = 0;

    bool ok() const { return status == "ok"; }
};

struct report_checks {
    std::vector<check_result> results;  // oldest first
    std::optional<std::int64_t> expected_interval;
};

// The check id of the incidents the collector opens itself for silent hosts; no agent check
// may take it.
inline constexpr std::string_view host_not_reporting = "host_not_reporting";

inline constexpr std::size_t max_checks_per_report = 10'000;
inline constexpr std::size_t max_check_id_bytes = 200;
inline constexpr std::size_t max_check_message_bytes = 4096;  // longer ones are cut

report_checks read_report_checks(const boost::json::object& document);

}  // namespace muster::collector::incidents
