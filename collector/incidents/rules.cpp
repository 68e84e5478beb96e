#include "collector/incidents/rules.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>

namespace muster::collector::incidents {
namespace {

// Only the changes inside the flapping window matter; older ones are forgotten so the stored
// list stays short.
void forget_old_changes(check_track& track, const incident_settings& settings, std::int64_t now) {
    auto cutoff = now - settings.flap_window;
    auto& changes = track.changes;
    changes.erase(changes.begin(),
                  std::find_if(changes.begin(), changes.end(),
                               [cutoff](std::int64_t time) { return time >= cutoff; }));
    auto limit = static_cast<std::size_t>(settings.flap_changes);
    if (changes.size() > limit) {
        changes.erase(changes.begin(), changes.end() - static_cast<std::ptrdiff_t>(limit));
    }
}

bool equal_folded(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

bool any_of_names(const std::vector<std::string>& wanted, std::string_view name) {
    return !name.empty() && std::any_of(wanted.begin(), wanted.end(),
                                        [&](const auto& item) { return equal_folded(item, name); });
}

// Host names are case-insensitive (RFC 4343), so the globs are too.
bool hostname_matches(const std::vector<std::string>& globs, const std::string& hostname) {
    return !hostname.empty() && std::any_of(globs.begin(), globs.end(), [&](const auto& glob) {
        return fnmatch(glob.c_str(), hostname.c_str(), FNM_CASEFOLD) == 0;
    });
}

bool is_member(const ci_attributes& ci, const service_definition& service) {
    if (hostname_matches(service.hostnames, ci.hostname)) return true;
    for (const auto& tag : ci.tags) {
        if (std::find(service.tags.begin(), service.tags.end(), tag) != service.tags.end()) {
            return true;
        }
    }
    return any_of_names(service.os, ci.os_id) || any_of_names(service.os, ci.os_name);
}

}  // namespace

bool is_open_state(std::string_view state) {
    return state == "new" || state == "acknowledged";
}

bool reopens(const std::optional<incident_link>& incident, const incident_settings& settings,
             std::int64_t now) {
    return incident && incident->state == "resolved" && incident->resolved_at &&
           now - *incident->resolved_at <= settings.reopen_within;
}

bool quiet_again(const check_track& track, const incident_settings& settings, std::int64_t now) {
    if (!track.flapping) return false;
    return !track.last_change_at || now - *track.last_change_at >= settings.flap_quiet;
}

evaluation evaluate(const check_track& track, const std::optional<incident_link>& incident, bool ok,
                    const incident_settings& settings, std::int64_t now) {
    evaluation out;
    out.track = track;
    auto& next = out.track;
    if (next.last_ok && *next.last_ok != ok) {
        next.changes.push_back(now);
        next.last_change_at = now;
    }
    next.last_ok = ok;
    forget_old_changes(next, settings, now);
    if (ok) {
        ++next.consecutive_ok;
        next.consecutive_bad = 0;
    } else {
        ++next.consecutive_bad;
        next.consecutive_ok = 0;
    }

    if (!next.flapping && next.changes.size() >= static_cast<std::size_t>(settings.flap_changes)) {
        next.flapping = true;
        out.flapping_started = true;
    }

    bool open = incident && is_open_state(incident->state);
    if (!ok) {
        if (open) {
            out.action = incident_action::update;
        } else if (reopens(incident, settings, now)) {
            out.action = incident_action::reopen;
        } else if (next.consecutive_bad >= settings.open_after) {
            out.action = incident_action::open;
        }
    } else if (open && next.consecutive_ok >= settings.resolve_after) {
        out.action = incident_action::resolve;
    }

    if (!out.flapping_started && quiet_again(next, settings, now)) {
        next.flapping = false;
        out.flapping_ended = true;
    }
    return out;
}

int priority_of(level impact, level urgency, const priority_matrix& matrix) {
    return matrix[static_cast<std::size_t>(impact)][static_cast<std::size_t>(urgency)];
}

const service_definition* service_for(const ci_attributes& ci,
                                      std::span<const service_definition> services) {
    for (const auto& service : services) {
        if (is_member(ci, service)) return &service;
    }
    return nullptr;
}

sla_due_times sla_due(int priority, std::int64_t opened_at, const incident_settings& settings) {
    auto index = static_cast<std::size_t>(std::clamp(priority, 1, lowest_priority) - 1);
    const auto& target = settings.sla[index];
    return {opened_at + target.response, opened_at + target.resolution};
}

sla_breaches sla_breached(const sla_clock& clock, std::int64_t now) {
    auto late = [now](std::optional<std::int64_t> done, std::int64_t due) {
        return done ? *done > due : now > due;
    };
    auto responded = clock.acknowledged_at ? clock.acknowledged_at : clock.resolved_at;
    return {late(responded, clock.response_due), late(clock.resolved_at, clock.resolution_due)};
}

bool needs_problem(std::span<const std::int64_t> opened_at, const incident_settings& settings,
                   std::int64_t now) {
    auto cutoff = now - settings.problem_window;
    auto recent = std::count_if(opened_at.begin(), opened_at.end(),
                                [cutoff](std::int64_t time) { return time >= cutoff; });
    return recent >= settings.problem_incidents;
}

}  // namespace muster::collector::incidents
