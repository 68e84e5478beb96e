#include "tests/bench/loadgen/options.h"

#include "common/file.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace muster::loadgen {
namespace {

template <typename T>
T number(const std::string& option, const std::string& text, T min, T max) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
        throw usage_error(option + ": expected a number from " + std::to_string(min) + " to " +
                          std::to_string(max) + ", got '" + text + "'");
    }
    return value;
}

std::vector<std::string> phase_list(const std::string& text) {
    static const std::vector<std::string> known{"full", "delta", "churn"};
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto comma = text.find(',', start);
        auto name = text.substr(start, comma == std::string::npos ? comma : comma - start);
        auto position = std::find(known.begin(), known.end(), name);
        if (position == known.end())
            throw usage_error("--phases: unknown phase '" + name + "' (full, delta, churn)");
        if (!out.empty() && std::find(known.begin(), known.end(), out.back()) >= position)
            throw usage_error("--phases: give each phase once, in the order full,delta,churn");
        out.push_back(name);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

std::string token_from_file(const std::string& path) {
    auto text = read_file(path);
    if (!text) throw usage_error("--token-file " + path + ": " + text.error().message());
    auto token = *text;
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    if (token.empty()) throw usage_error("--token-file " + path + ": the file is empty");
    return token;
}

}  // namespace

const char* const usage_text =
    "usage: muster-loadgen --url https://HOST:PORT --ca FILE (--token T | --token-file FILE)\n"
    "         [--agents N] [--concurrency C] [--threads T] [--phases full,delta,churn]\n"
    "         [--deltas-per-agent K] [--packages P] [--seed S] [--gzip-level 1-9]\n"
    "         [--timeout SECONDS] [--json FILE] [--acked-log FILE] [--db FILE]\n"
    "         [--collector-pid PID] [--until-killed] [--duration SECONDS] [--quiet]\n"
    "         [--fresh-connections] [--rate R] [--delta-rate R]\n"
    "Simulates N agents against a running collector: each enrolls with its own Ed25519 key,\n"
    "sends a full report, then K unchanged deltas (delta) and K deltas upgrading a few\n"
    "packages (churn). With --until-killed or --duration the last phase repeats until the\n"
    "collector goes away or the time is up; connection failures then end the run cleanly.\n"
    "--fresh-connections: one TLS connection per request (Connection: close), as real agents\n"
    "that report once a minute do, instead of keep-alive.\n"
    "--rate R: the report phases offer R reports a second, on a fixed schedule, instead of\n"
    "each connection sending its next report when the last is acknowledged; a report's\n"
    "latency then counts from when it was due, so a collector falling behind shows in it.\n"
    "--delta-rate R: the same for the delta and churn phases (default: --rate).\n";

std::optional<options> parse_options(const std::vector<std::string>& args) {
    options o;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& name = args[i];
        if (name == "--help" || name == "-h") return std::nullopt;
        if (name == "--until-killed") {
            o.until_killed = true;
            continue;
        }
        if (name == "--quiet") {
            o.quiet = true;
            continue;
        }
        if (name == "--fresh-connections") {
            o.fresh_connections = true;
            continue;
        }
        if (name.rfind("--", 0) != 0) throw usage_error("unexpected argument '" + name + "'");
        if (i + 1 >= args.size()) throw usage_error(name + ": missing its value");
        if (!seen.insert(name).second) throw usage_error(name + ": given twice");
        const auto& value = args[++i];
        if (name == "--url")
            o.url = value;
        else if (name == "--ca")
            o.ca_file = value;
        else if (name == "--token")
            o.token = value;
        else if (name == "--token-file")
            o.token = token_from_file(value);
        else if (name == "--agents")
            o.agents = number<std::size_t>(name, value, 1, 10000000);
        else if (name == "--concurrency")
            o.concurrency = number<std::size_t>(name, value, 1, 100000);
        else if (name == "--threads")
            o.threads = number<std::size_t>(name, value, 1, 64);
        else if (name == "--phases")
            o.phases = phase_list(value);
        else if (name == "--deltas-per-agent")
            o.deltas_per_agent = number<std::size_t>(name, value, 0, 1000000);
        else if (name == "--packages")
            o.packages = number<std::size_t>(name, value, 1, 100000);
        else if (name == "--seed")
            o.seed = number<std::uint64_t>(name, value, 0, UINT64_MAX);
        else if (name == "--gzip-level")
            o.gzip_level = number<int>(name, value, 1, 9);
        else if (name == "--timeout")
            o.timeout_seconds = number<int>(name, value, 1, 3600);
        else if (name == "--json")
            o.json_file = value;
        else if (name == "--acked-log")
            o.acked_log = value;
        else if (name == "--db")
            o.db_file = value;
        else if (name == "--collector-pid")
            o.collector_pid = number<int>(name, value, 1, 1 << 30);
        else if (name == "--rate")
            o.rate = static_cast<double>(number<std::uint64_t>(name, value, 1, 1000000));
        else if (name == "--delta-rate")
            o.delta_rate = static_cast<double>(number<std::uint64_t>(name, value, 1, 1000000));
        else if (name == "--duration")
            o.duration_seconds = number<std::uint64_t>(name, value, 1, 86400 * 30);
        else
            throw usage_error("unknown option " + name);
    }
    if (o.url.empty()) throw usage_error("--url is required");
    if (o.ca_file.empty()) throw usage_error("--ca is required");
    if (o.token.empty()) throw usage_error("--token or --token-file is required");
    return o;
}

}  // namespace muster::loadgen
