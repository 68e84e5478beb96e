#pragma once
// Running a program for a check: no shell, stdin from /dev/null, stdout and stderr captured
// (capped), in a process group of its own so that it can be stopped with everything it
// started. At the run's deadline, or when the run is cancelled, the whole group is killed
// (SIGKILL). When the program exits, whatever it left running in its group is killed too: a
// check leaves nothing behind.
//
// Error policy: every end is a value (child_result); nothing throws.
#include "agent/checks/check.h"

#include <string>
#include <vector>

namespace muster::agent::checks {

inline constexpr std::size_t max_child_output =
    64 * 1024;  // per stream; the rest is read and dropped

struct child_result {
    enum class ending { exited, signaled, timed_out, cancelled, not_started };
    ending how = ending::not_started;
    int code = 0;       // the exit status, or the signal number when signaled
    std::string out;    // stdout, at most max_child_output bytes
    std::string err;    // stderr, same
    std::string error;  // why it did not start
};

child_result run_child(const std::vector<std::string>& argv, const run_context& ctx);

}  // namespace muster::agent::checks
