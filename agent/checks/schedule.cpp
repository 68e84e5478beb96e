#include "agent/checks/schedule.h"

namespace muster::agent::checks {

check_schedule::check_schedule(const std::vector<check_config>& checks, clock::time_point first) {
    for (const auto& c : checks) entries_.push_back({&c, first});
}

check_schedule::clock::time_point check_schedule::next_due() const {
    auto next = clock::time_point::max();
    for (const auto& e : entries_) next = std::min(next, e.due);
    return next;
}

std::vector<const check_config*> check_schedule::take_due(clock::time_point now) {
    std::vector<const check_config*> due;
    for (auto& e : entries_) {
        if (e.due > now) continue;
        due.push_back(e.check);
        e.due += e.check->interval;
        if (e.due <= now) e.due = now + e.check->interval;
    }
    return due;
}

}  // namespace muster::agent::checks
