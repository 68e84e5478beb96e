// disk_usage: how full the filesystem holding `path` is, in percent of the
// space usable by unprivileged users, as df computes Use% (used / (used +
// available)).
#include "agent/checks/keys.h"
#include "agent/checks/types.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cmath>
#include <cstring>

namespace muster::agent::checks {

check_fn read_disk_usage(config_map& map) {
    auto path = get_absolute_path(map, "path");
    auto levels = read_thresholds(map, 80, 90, 0, 100);
    return [path, levels](const run_context&) {
        struct statvfs fs {};
        if (::statvfs(path.c_str(), &fs) != 0)
            return unknown("cannot read the filesystem of " + path + ": " + std::strerror(errno));
        double used = static_cast<double>(fs.f_blocks - fs.f_bfree);
        double room = used + static_cast<double>(fs.f_bavail);
        if (fs.f_blocks == 0 || room <= 0)
            return unknown("the filesystem of " + path + " reports no size");
        double percent = std::round(used * 100 / room * 100) / 100;
        auto status = levels.classify(percent);
        return outcome_of(
            status, path + " is " + format_number(percent) + "% full" + levels.note(status, "%"),
            percent, "%");
    };
}

}  // namespace muster::agent::checks
