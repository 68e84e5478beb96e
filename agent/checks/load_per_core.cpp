// load_per_core: a load average of /proc/loadavg divided by the number of
// online CPUs, so that one threshold fits machines of every size.
#include "agent/checks/keys.h"
#include "agent/checks/proc.h"
#include "agent/checks/types.h"

#include <cmath>

namespace muster::agent::checks {

check_fn read_load_per_core(config_map& map) {
    auto average = map.get_enum("average", {"1m", "5m", "15m"}, "5m");
    std::size_t index = average == "1m" ? 0 : average == "5m" ? 1 : 2;
    auto levels = read_thresholds(map, 1, 2, 0, 1000);
    return [average, index, levels](const run_context& ctx) {
        std::string problem;
        auto load = read_loadavg(ctx, &problem);
        if (!load) return unknown(problem);
        auto cpus = online_cpus(ctx, &problem);
        if (!cpus) return unknown(problem);
        double per_core = std::round((*load)[index] / *cpus * 100) / 100;
        auto status = levels.classify(per_core);
        return outcome_of(status,
                          "load " + format_number((*load)[index], 2) + " over " + average + " on " +
                              std::to_string(*cpus) + " CPU(s): " + format_number(per_core, 2) +
                              " per core" + levels.note(status, ""),
                          per_core, "");
    };
}

}  // namespace muster::agent::checks
