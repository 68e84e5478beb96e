#pragma once
// Readers of the /proc and /sys files the resource checks share, under the run's root.
// Nullopt with the reason (naming the file) in *problem when a file is absent or garbled.
#include "agent/checks/check.h"

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace muster::agent::checks {

// /proc/meminfo: field name to value in kB ("MemTotal" -> 24684096).
std::optional<std::map<std::string, std::uint64_t>> read_meminfo(const run_context& ctx,
                                                                 std::string* problem);

// The three load averages of /proc/loadavg (1, 5 and 15 minutes).
std::optional<std::array<double, 3>> read_loadavg(const run_context& ctx, std::string* problem);

// The number of online CPUs: /sys/devices/system/cpu/online ("0-3,6"), or the processor
// lines of /proc/cpuinfo when that file is absent.
std::optional<unsigned> online_cpus(const run_context& ctx, std::string* problem);

}  // namespace muster::agent::checks
