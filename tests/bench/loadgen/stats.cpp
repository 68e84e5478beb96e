#include "tests/bench/loadgen/stats.h"

#include "common/file.h"

#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace muster::loadgen {

void phase_stats::merge(const phase_stats& other) {
    ok += other.ok;
    for (const auto& [kind, count] : other.errors) errors[kind] += count;
    latencies_ms.insert(latencies_ms.end(), other.latencies_ms.begin(), other.latencies_ms.end());
    bytes_sent += other.bytes_sent;
    body_bytes += other.body_bytes;
}

double phase_stats::percentile(double p) const {
    if (latencies_ms.empty()) return 0;
    auto sorted = latencies_ms;
    std::sort(sorted.begin(), sorted.end());
    // Nearest rank: the smallest value with at least p of the samples at or below it.
    auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

std::optional<process_sample> sample_process(int pid) {
    auto base = "/proc/" + std::to_string(pid);
    auto stat = read_file(base + "/stat");
    auto status = read_file(base + "/status");
    if (!stat || !status) return std::nullopt;
    // Fields after the parenthesised command name, which may itself hold spaces.
    auto close = stat->rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(stat->substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int index = 3; fields >> field; ++index) {
        if (index == 14) utime = std::stoull(field);
        if (index == 15) {
            stime = std::stoull(field);
            break;
        }
    }
    process_sample sample;
    sample.cpu_seconds =
        static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    auto hwm = status->find("VmHWM:");
    if (hwm != std::string::npos)
        sample.peak_rss_bytes = std::stoull(status->substr(hwm + 6)) * 1024;
    return sample;
}

namespace {

std::string fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

std::string padded(const std::string& text, std::size_t width) {
    return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

std::uint64_t error_count(const phase_stats& p) {
    std::uint64_t total = 0;
    for (const auto& [kind, count] : p.errors) total += count;
    return total;
}

}  // namespace

void print_table(std::ostream& out, run_summary& s) {
    out << "agents " << s.agents << ", concurrency " << s.concurrency << ", packages/host "
        << s.packages;
    if (s.rate > 0 || s.delta_rate > 0) {
        out << ", open loop: full offered at " << s.rate << "/s, deltas at " << s.delta_rate
            << "/s (0: closed loop)";
    }
    out << "\n";
    const std::vector<std::pair<std::string, std::size_t>> columns{
        {"phase", 7},   {"ok", 8},       {"seconds", 9},     {"per s", 9},
        {"p50 ms", 9},  {"p99 ms", 9},   {"max ms", 9},      {"errors", 7},
        {"MB sent", 9}, {"B/report", 9}, {"coll. CPU s", 12}};
    for (const auto& [title, width] : columns) out << padded(title, width);
    out << "\n";
    for (auto& p : s.phases) {
        auto mean_body = p.ok ? p.body_bytes / p.ok : 0;
        std::vector<std::string> cells{
            p.name,
            std::to_string(p.ok),
            fixed(p.seconds, 2),
            fixed(p.per_second(), 1),
            fixed(p.percentile(0.50), 1),
            fixed(p.percentile(0.99), 1),
            fixed(p.percentile(1.0), 1),
            std::to_string(error_count(p)),
            fixed(static_cast<double>(p.bytes_sent) / 1e6, 2),
            std::to_string(mean_body),
            p.collector_cpu_seconds ? fixed(*p.collector_cpu_seconds, 2) : "-"};
        for (std::size_t i = 0; i < cells.size(); ++i) out << padded(cells[i], columns[i].second);
        out << "\n";
        for (const auto& [kind, count] : p.errors)
            out << "          error " << kind << ": " << count << "\n";
    }
    if (s.collector) {
        out << "collector: CPU " << fixed(s.collector->cpu_seconds, 2) << " s, peak RSS "
            << fixed(static_cast<double>(s.collector->peak_rss_bytes) / 1048576.0, 1) << " MiB\n";
    }
    if (s.database_bytes && s.agents) {
        out << "database: " << fixed(static_cast<double>(*s.database_bytes) / 1048576.0, 1)
            << " MiB (.sqlite + -wal), " << *s.database_bytes / s.agents << " bytes per host\n";
    }
}

boost::json::object to_json(run_summary& s) {
    boost::json::array phases;
    for (auto& p : s.phases) {
        boost::json::object errors;
        for (const auto& [kind, count] : p.errors) errors[kind] = count;
        phases.push_back(boost::json::object{
            {"phase", p.name},
            {"acknowledged", p.ok},
            {"seconds", p.seconds},
            {"per_second", p.per_second()},
            {"latency_ms",
             {{"p50", p.percentile(0.50)},
              {"p99", p.percentile(0.99)},
              {"max", p.percentile(1.0)}}},
            {"errors", std::move(errors)},
            {"bytes_sent", p.bytes_sent},
            {"mean_body_bytes", p.ok ? p.body_bytes / p.ok : 0},
            {"prepare_seconds", p.prepare_seconds},
            {"collector_cpu_seconds",
             p.collector_cpu_seconds ? boost::json::value(*p.collector_cpu_seconds) : nullptr}});
    }
    boost::json::object out{
        {"agents", s.agents},
        {"concurrency", s.concurrency},
        {"packages_per_host", s.packages},
        {"offered_rate_per_s", s.rate > 0 ? boost::json::value(s.rate) : nullptr},
        {"phases", std::move(phases)}};
    if (s.collector) {
        out["collector"] = {{"cpu_seconds", s.collector->cpu_seconds},
                            {"peak_rss_bytes", s.collector->peak_rss_bytes}};
    }
    if (s.database_bytes) {
        out["database_bytes"] = *s.database_bytes;
        out["database_bytes_per_host"] = s.agents ? *s.database_bytes / s.agents : 0;
    }
    return out;
}

}  // namespace muster::loadgen
