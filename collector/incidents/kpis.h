#pragma once
// Service-level figures over a period (docs/incidents.md, "KPIs"), a pure function of the
// incidents opened in it, for `musterctl report sla`.
//
// Error policy: none; the inputs are stored values.
#include "collector/incidents/rules.h"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace muster::collector::incidents {

// What a KPI needs of one incident.
struct kpi_incident {
    int priority = lowest_priority;
    std::optional<std::string> service;
    std::int64_t opened_at = 0;
    sla_clock clock;
};

struct kpi_figures {
    std::string group;  // "all", "P1".."P4", or a service name ("" for no service)
    std::int64_t incidents = 0;
    std::int64_t acknowledged = 0;       // by `until`
    std::int64_t resolved = 0;           // by `until`
    std::optional<double> mtta_seconds;  // mean time to acknowledge, of the acknowledged
    std::optional<double> mttr_seconds;  // mean time to resolve, of the resolved
    std::int64_t compliant = 0;          // both targets met
    std::int64_t breached = 0;           // a target missed
    std::optional<double> compliance;    // compliant / (compliant + breached)
};

struct kpi_report {
    std::int64_t since = 0;
    std::int64_t until = 0;
    kpi_figures all;
    std::vector<kpi_figures> by_priority;  // P1..P4, each present
    std::vector<kpi_figures> by_service;   // services with incidents, by name
};

// Incidents opened in [since, until); acknowledgements and resolutions after `until` have not
// happened yet, so a past period's figures do not move.
kpi_report kpis(std::span<const kpi_incident> incidents, std::int64_t since, std::int64_t until);

boost::json::object to_json(const kpi_report& report);

}  // namespace muster::collector::incidents
