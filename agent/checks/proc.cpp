#include "agent/checks/proc.h"

#include "common/file.h"

#include <charconv>
#include <sstream>

namespace muster::agent::checks {
namespace {

constexpr std::size_t max_proc_file = 1 << 20;

std::optional<std::string> read_text(const run_context& ctx, std::string_view absolute,
                                     std::string* problem) {
    auto path = ctx.path(absolute);
    auto text = read_file(path, max_proc_file);
    if (!text) {
        *problem = "cannot read " + path.string() + ": " + text.error().message();
        return std::nullopt;
    }
    return *text;
}

template <class Number>
std::optional<Number> number_of(std::string_view text) {
    Number value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

// "0-3,6" to 5; nullopt when garbled.
std::optional<unsigned> count_cpu_list(std::string_view list) {
    unsigned count = 0;
    while (!list.empty()) {
        auto comma = list.find(',');
        auto part = list.substr(0, comma);
        list = comma == std::string_view::npos ? "" : list.substr(comma + 1);
        auto dash = part.find('-');
        auto first = number_of<unsigned>(part.substr(0, dash));
        auto last =
            dash == std::string_view::npos ? first : number_of<unsigned>(part.substr(dash + 1));
        if (!first || !last || *last < *first) return std::nullopt;
        count += *last - *first + 1;
    }
    if (count == 0) return std::nullopt;
    return count;
}

}  // namespace

std::optional<std::map<std::string, std::uint64_t>> read_meminfo(const run_context& ctx,
                                                                 std::string* problem) {
    auto text = read_text(ctx, "/proc/meminfo", problem);
    if (!text) return std::nullopt;
    std::map<std::string, std::uint64_t> fields;
    std::istringstream lines(*text);
    std::string line;
    while (std::getline(lines, line)) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::istringstream rest(line.substr(colon + 1));
        std::uint64_t value = 0;
        if (rest >> value) fields[line.substr(0, colon)] = value;
    }
    return fields;
}

std::optional<std::array<double, 3>> read_loadavg(const run_context& ctx, std::string* problem) {
    auto text = read_text(ctx, "/proc/loadavg", problem);
    if (!text) return std::nullopt;
    std::istringstream in(*text);
    std::array<double, 3> load{};
    std::string word;
    for (auto& l : load) {
        std::optional<double> value;
        if (in >> word) value = number_of<double>(word);
        if (!value) {
            *problem = ctx.path("/proc/loadavg").string() + " is garbled: '" +
                       std::string(trim(*text)) + "'";
            return std::nullopt;
        }
        l = *value;
    }
    return load;
}

std::optional<unsigned> online_cpus(const run_context& ctx, std::string* problem) {
    std::string ignored;
    if (auto list = read_text(ctx, "/sys/devices/system/cpu/online", &ignored)) {
        if (auto count = count_cpu_list(trim(*list))) return count;
    }
    auto cpuinfo = read_text(ctx, "/proc/cpuinfo", problem);
    if (!cpuinfo) return std::nullopt;
    unsigned count = 0;
    std::istringstream lines(*cpuinfo);
    std::string line;
    while (std::getline(lines, line))
        if (line.starts_with("processor")) ++count;
    if (count == 0) {
        *problem = "no CPU listed in " + ctx.path("/sys/devices/system/cpu/online").string() +
                   " nor in " + ctx.path("/proc/cpuinfo").string();
        return std::nullopt;
    }
    return count;
}

}  // namespace muster::agent::checks
