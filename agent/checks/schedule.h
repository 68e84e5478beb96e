#pragma once
// When the daemon runs each check: every check on its own interval, the first time at the
// start. A round that ran late does not make the next ones pile up: a check due more than
// once while the agent was busy runs once.
#include "agent/checks/check.h"

#include <chrono>
#include <vector>

namespace muster::agent::checks {

class check_schedule {
  public:
    using clock = std::chrono::steady_clock;

    check_schedule() = default;
    // checks must outlive the schedule (the daemon's configuration).
    check_schedule(const std::vector<check_config>& checks, clock::time_point first);

    // time_point::max() when there are no checks.
    clock::time_point next_due() const;
    // The checks due at now, in configuration order; each is scheduled again.
    std::vector<const check_config*> take_due(clock::time_point now);

  private:
    struct entry {
        const check_config* check;
        clock::time_point due;
    };
    std::vector<entry> entries_;
};

}  // namespace muster::agent::checks
