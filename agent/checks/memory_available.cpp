// memory_available: MemAvailable of /proc/meminfo (the kernel's estimate of
// what can be allocated without swapping) in percent of MemTotal. Lower is
// worse.
#include "agent/checks/keys.h"
#include "agent/checks/proc.h"
#include "agent/checks/types.h"

#include <cmath>

namespace muster::agent::checks {

check_fn read_memory_available(config_map& map) {
    auto levels = read_thresholds(map, 10, 5, 0, 100, true);
    return [levels](const run_context& ctx) {
        std::string problem;
        auto meminfo = read_meminfo(ctx, &problem);
        if (!meminfo) return unknown(problem);
        auto total = meminfo->find("MemTotal");
        auto available = meminfo->find("MemAvailable");
        if (total == meminfo->end() || available == meminfo->end() || total->second == 0)
            return unknown(ctx.path("/proc/meminfo").string() +
                           " has no MemTotal or MemAvailable (kernel older than 3.14?)");
        double percent = std::round(static_cast<double>(available->second) * 100 /
                                    static_cast<double>(total->second) * 100) /
                         100;
        auto status = levels.classify(percent);
        return outcome_of(status,
                          format_number(percent) + "% of memory available (" +
                              format_number(static_cast<double>(available->second) / 1024, 0) +
                              " MiB of " +
                              format_number(static_cast<double>(total->second) / 1024, 0) +
                              " MiB)" + levels.note(status, "%"),
                          percent, "%");
    };
}

}  // namespace muster::agent::checks
