#pragma once
// Running checks: each run on a thread of its own, all of a round at once, each bounded by
// its timeout. A run still going at its timeout (a statvfs on a dead NFS mount cannot be
// interrupted) is abandoned: it is reported unknown, asked to stop, and left to finish on its
// own; the check is not started again while that run is still going, so a hung check holds
// one thread at most. An exception escaping a check is unknown too.
#include "agent/checks/check.h"

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace muster::agent::checks {

// How long after its timeout a run is abandoned: checks that wait stop on their own at the
// timeout and report their own reason within this margin.
inline constexpr std::chrono::milliseconds abandon_margin{1000};

class check_runner {
  public:
    explicit check_runner(std::filesystem::path root = "/");
    ~check_runner();
    check_runner(const check_runner&) = delete;
    check_runner& operator=(const check_runner&) = delete;

    // Runs the checks at once and returns their results in the same order. should_stop is
    // polled a few times a second; when it says so, the runs still going are cancelled and
    // reported unknown, and run() returns within about a second.
    std::vector<check_result> run(const std::vector<const check_config*>& checks,
                                  const std::function<bool()>& should_stop = {});

  private:
    struct job;
    std::shared_ptr<job> start(const check_config& check);

    std::filesystem::path root_;
    std::map<std::string, std::shared_ptr<job>> hung_;  // by check id
};

// Runs every check once (muster-agent check, once).
std::vector<check_result> run_all(const std::vector<check_config>& checks,
                                  const std::function<bool()>& should_stop = {});

}  // namespace muster::agent::checks
