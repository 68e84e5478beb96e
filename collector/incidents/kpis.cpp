#include "collector/incidents/kpis.h"

#include <algorithm>
#include <map>

namespace muster::collector::incidents {
namespace {

namespace json = boost::json;

// Sums for one group; the means are taken at the end.
struct accumulator {
    kpi_figures figures;
    double acknowledge_seconds = 0;
    double resolve_seconds = 0;

    void add(const kpi_incident& incident, std::int64_t until) {
        ++figures.incidents;
        // What happened after `until` has not happened yet as of the report.
        sla_clock clock = incident.clock;
        if (clock.acknowledged_at && *clock.acknowledged_at > until) clock.acknowledged_at = {};
        if (clock.resolved_at && *clock.resolved_at > until) clock.resolved_at = {};
        if (clock.acknowledged_at) {
            ++figures.acknowledged;
            acknowledge_seconds += static_cast<double>(*clock.acknowledged_at - incident.opened_at);
        }
        if (clock.resolved_at) {
            ++figures.resolved;
            resolve_seconds += static_cast<double>(*clock.resolved_at - incident.opened_at);
        }
        auto breaches = sla_breached(clock, until);
        if (breaches.response || breaches.resolution) {
            ++figures.breached;
        } else if (clock.resolved_at) {
            ++figures.compliant;
        }
    }

    kpi_figures finish() {
        if (figures.acknowledged > 0) {
            figures.mtta_seconds = acknowledge_seconds / static_cast<double>(figures.acknowledged);
        }
        if (figures.resolved > 0) {
            figures.mttr_seconds = resolve_seconds / static_cast<double>(figures.resolved);
        }
        auto decided = figures.compliant + figures.breached;
        if (decided > 0) {
            figures.compliance =
                static_cast<double>(figures.compliant) / static_cast<double>(decided);
        }
        return figures;
    }
};

json::value optional_number(const std::optional<double>& value) {
    return value ? json::value(*value) : json::value(nullptr);
}

json::object to_json(const kpi_figures& figures) {
    return json::object{{"group", figures.group},
                        {"incidents", figures.incidents},
                        {"acknowledged", figures.acknowledged},
                        {"resolved", figures.resolved},
                        {"mtta_seconds", optional_number(figures.mtta_seconds)},
                        {"mttr_seconds", optional_number(figures.mttr_seconds)},
                        {"compliant", figures.compliant},
                        {"breached", figures.breached},
                        {"compliance", optional_number(figures.compliance)}};
}

json::array to_json(const std::vector<kpi_figures>& groups) {
    json::array out;
    for (const auto& figures : groups) out.push_back(to_json(figures));
    return out;
}

}  // namespace

kpi_report kpis(std::span<const kpi_incident> incidents, std::int64_t since, std::int64_t until) {
    accumulator all;
    all.figures.group = "all";
    std::vector<accumulator> priorities(lowest_priority);
    for (int p = 1; p <= lowest_priority; ++p) {
        priorities[static_cast<std::size_t>(p - 1)].figures.group = priority_name(p);
    }
    std::map<std::string, accumulator> services;
    for (const auto& incident : incidents) {
        if (incident.opened_at < since || incident.opened_at >= until) continue;
        all.add(incident, until);
        auto p = std::clamp(incident.priority, 1, lowest_priority);
        priorities[static_cast<std::size_t>(p - 1)].add(incident, until);
        auto name = incident.service.value_or("");
        auto& service = services[name];
        service.figures.group = name;
        service.add(incident, until);
    }
    kpi_report report;
    report.since = since;
    report.until = until;
    report.all = all.finish();
    for (auto& group : priorities) report.by_priority.push_back(group.finish());
    for (auto& [name, group] : services) report.by_service.push_back(group.finish());
    return report;
}

json::object to_json(const kpi_report& report) {
    return json::object{{"since", report.since},
                        {"until", report.until},
                        {"all", to_json(report.all)},
                        {"by_priority", to_json(report.by_priority)},
                        {"by_service", to_json(report.by_service)}};
}

}  // namespace muster::collector::incidents
