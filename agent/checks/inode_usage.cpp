// inode_usage: the share of the inodes of the filesystem holding `path` in use,
// as df -i computes IUse%. A filesystem without a fixed inode table (btrfs,
// some FUSE) cannot run out of them: ok, without a value.
#include "agent/checks/keys.h"
#include "agent/checks/types.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cmath>
#include <cstring>

namespace muster::agent::checks {

check_fn read_inode_usage(config_map& map) {
    auto path = get_absolute_path(map, "path");
    auto levels = read_thresholds(map, 80, 90, 0, 100);
    return [path, levels](const run_context&) {
        struct statvfs fs {};
        if (::statvfs(path.c_str(), &fs) != 0)
            return unknown("cannot read the filesystem of " + path + ": " + std::strerror(errno));
        if (fs.f_files == 0)
            return outcome_of(check_status::ok,
                              "the filesystem of " + path + " has no fixed number of inodes");
        double used = static_cast<double>(fs.f_files - fs.f_ffree);
        double percent = std::round(used * 100 / static_cast<double>(fs.f_files) * 100) / 100;
        auto status = levels.classify(percent);
        return outcome_of(status,
                          "inodes of " + path + " are " + format_number(percent) + "% used" +
                              levels.note(status, "%"),
                          percent, "%");
    };
}

}  // namespace muster::agent::checks
