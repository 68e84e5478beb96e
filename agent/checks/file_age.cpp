// file_age: how long ago `path` was last modified (a backup stamp, a heartbeat
// file). A file that does not exist is critical: whatever should have written
// it never did.
#include "agent/checks/keys.h"
#include "agent/checks/types.h"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>

namespace muster::agent::checks {
namespace {

using namespace std::chrono_literals;

// 42 s, 15 min, 3.5 h, 2.1 d: the largest unit that keeps the number readable.
std::string readable_age(double seconds) {
    if (seconds < 120) return format_number(seconds, 0) + " s";
    if (seconds < 7200) return format_number(seconds / 60, 0) + " min";
    if (seconds < 172800) return format_number(seconds / 3600, 1) + " h";
    return format_number(seconds / 86400, 1) + " d";
}

double seconds_since(const struct timespec& when) {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    double age = static_cast<double>(now.tv_sec - when.tv_sec) +
                 static_cast<double>(now.tv_nsec - when.tv_nsec) / 1e9;
    return age < 0 ? 0 : age;  // a file from the future (clock change) is fresh
}

}  // namespace

check_fn read_file_age(config_map& map) {
    auto path = get_absolute_path(map, "path");
    auto critical_age = map.get_duration("critical", 0s, 1s, 24h * 3660);
    if (!map.has("critical")) map.get_string("critical");  // reports the missing key
    auto warning_age = map.get_duration("warning", critical_age, 1s, 24h * 3660);
    if (warning_age > critical_age)
        map.fail("warning", "warning (" + format_duration(warning_age) +
                                ") cannot be longer than critical (" +
                                format_duration(critical_age) + ")");
    thresholds levels{std::chrono::duration<double>(warning_age).count(),
                      std::chrono::duration<double>(critical_age).count(), false};
    return [path, levels](const run_context&) {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) {
            if (errno == ENOENT) return critical(path + " does not exist");
            return unknown("cannot stat " + path + ": " + std::strerror(errno));
        }
        double age = std::floor(seconds_since(st.st_mtim));
        auto status = levels.classify(age);
        std::string note;
        if (status != check_status::ok)
            note =
                " (" + std::string(status_name(status)) + " at " +
                format_duration(std::chrono::milliseconds(static_cast<std::int64_t>(
                    1000 * (status == check_status::warning ? levels.warning : levels.critical)))) +
                ")";
        return outcome_of(status, path + " was modified " + readable_age(age) + " ago" + note, age,
                          "s");
    };
}

}  // namespace muster::agent::checks
