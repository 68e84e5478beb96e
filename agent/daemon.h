#pragma once
// The two delivery commands of muster-agent:
//   once  one cycle (enroll if needed, inventory, deliver everything pending) and exit;
//   run   the daemon in the foreground: an inventory every interval after a random splay,
//         retries with backoff, SIGTERM/SIGINT stop it, SIGHUP reloads the config.
#include "agent/config.h"

#include <filesystem>
#include <optional>
#include <string>

namespace muster::agent {

// Exit codes of `once` (and of `run` when it cannot start).
inline constexpr int exit_acknowledged = 0;   // the collector acknowledged this cycle's report
inline constexpr int exit_not_delivered = 1;  // see the log: network, certificate, refused, revoked
inline constexpr int exit_config = 2;         // configuration or usage error
inline constexpr int exit_pending = 3;        // enrollment waits for an administrator's approval

int run_once(const agent_config& config);

// Runs until SIGTERM or SIGINT; returns the exit code. log_level overrides the file's level
// (command line), also after a reload.
int run_daemon(const std::filesystem::path& config_path, agent_config config,
               std::optional<std::string> log_level);

}  // namespace muster::agent
