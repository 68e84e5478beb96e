// swap_used: SwapTotal - SwapFree of /proc/meminfo in percent of SwapTotal. A
// machine without swap uses none of it: ok, without a value.
#include "agent/checks/keys.h"
#include "agent/checks/proc.h"
#include "agent/checks/types.h"

#include <cmath>

namespace muster::agent::checks {

check_fn read_swap_used(config_map& map) {
    auto levels = read_thresholds(map, 50, 80, 0, 100);
    return [levels](const run_context& ctx) {
        std::string problem;
        auto meminfo = read_meminfo(ctx, &problem);
        if (!meminfo) return unknown(problem);
        auto total = meminfo->find("SwapTotal");
        auto free = meminfo->find("SwapFree");
        if (total == meminfo->end() || free == meminfo->end())
            return unknown(ctx.path("/proc/meminfo").string() + " has no SwapTotal or SwapFree");
        if (total->second == 0) return outcome_of(check_status::ok, "no swap configured");
        double used = static_cast<double>(total->second - std::min(free->second, total->second));
        double percent = std::round(used * 100 / static_cast<double>(total->second) * 100) / 100;
        auto status = levels.classify(percent);
        return outcome_of(status,
                          format_number(percent) + "% of swap used (" +
                              format_number(used / 1024, 0) + " MiB of " +
                              format_number(static_cast<double>(total->second) / 1024, 0) +
                              " MiB)" + levels.note(status, "%"),
                          percent, "%");
    };
}

}  // namespace muster::agent::checks
