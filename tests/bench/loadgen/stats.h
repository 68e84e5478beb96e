#pragma once
// What a phase measured, and the collector's own footprint read from /proc.
//
// Error policy: reading /proc of a process that is gone gives nullopt, never an error.
#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace muster::loadgen {

struct phase_stats {
    std::string name;
    std::uint64_t ok = 0;                         // acknowledged reports (or enrollments)
    std::map<std::string, std::uint64_t> errors;  // by kind, e.g. "409 resync", "network: …"
    std::vector<double> latencies_ms;             // of each acknowledged request
    std::uint64_t bytes_sent = 0;                 // requests as written, headers included
    std::uint64_t body_bytes = 0;                 // bodies of acknowledged requests
    double prepare_seconds = 0;                   // building the requests, before the clock
    double seconds = 0;                           // wall time of the sending
    std::optional<double> collector_cpu_seconds;  // over the sending

    void merge(const phase_stats& other);
    double percentile(double p) const;  // of latencies_ms; sorts them; 0 when empty
    double per_second() const { return seconds > 0 ? static_cast<double>(ok) / seconds : 0; }
};

struct process_sample {
    double cpu_seconds = 0;            // user + system
    std::uint64_t peak_rss_bytes = 0;  // VmHWM
};
std::optional<process_sample> sample_process(int pid);

struct run_summary {
    std::size_t agents = 0;
    std::size_t concurrency = 0;
    std::size_t packages = 0;
    double rate = 0;        // --rate, 0 when closed loop
    double delta_rate = 0;  // --delta-rate, or --rate
    std::vector<phase_stats> phases;
    std::optional<process_sample> collector;      // at the end of the run
    std::optional<std::uint64_t> database_bytes;  // .sqlite + -wal
};

void print_table(std::ostream& out, run_summary& summary);
boost::json::object to_json(run_summary& summary);

}  // namespace muster::loadgen
