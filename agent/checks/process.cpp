// process: how many processes run that match, by name (the kernel's comm, as ps
// -e shows it) or by their command line (a substring or a regular expression),
// against a minimum (default 1) and an optional maximum. The agent itself never
// counts.
#include "agent/checks/keys.h"
#include "agent/checks/types.h"
#include "common/file.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <regex>

namespace muster::agent::checks {
namespace {

constexpr std::size_t max_comm_length = 15;  // TASK_COMM_LEN - 1: longer names are cut

struct matcher {
    enum class by { name, substring, regex } kind = by::name;
    std::string pattern;
    std::shared_ptr<const std::regex> regex;

    std::string describe() const {
        switch (kind) {
            case by::name:
                return "named " + pattern;
            case by::substring:
                return "with '" + pattern + "' in the command line";
            case by::regex:
                return "with a command line matching /" + pattern + "/";
        }
        return "";
    }
};

matcher read_matcher(config_map& map) {
    int given = map.has("name") + map.has("command_line") + map.has("command_regex");
    if (given != 1)
        map.fail(given == 0 ? "name" : "command_line",
                 "set exactly one of name, command_line or command_regex");
    matcher m;
    if (map.has("name")) {
        m.pattern = map.get_string("name", [](std::string_view text) -> std::optional<std::string> {
            if (text.empty()) return "cannot be empty";
            if (text.size() > max_comm_length)
                return "the kernel keeps the first 15 characters of a process "
                       "name; use "
                       "command_line for a longer one";
            return std::nullopt;
        });
    } else if (map.has("command_line")) {
        m.kind = matcher::by::substring;
        m.pattern = map.get_string("command_line", [](std::string_view text) {
            return text.empty() ? std::optional<std::string>("cannot be empty") : std::nullopt;
        });
    } else {
        m.kind = matcher::by::regex;
        m.pattern = map.get_string("command_regex", [&](std::string_view text) {
            try {
                m.regex = std::make_shared<const std::regex>(std::string(text));
            } catch (const std::regex_error& e) {
                return std::optional<std::string>(std::string("not a valid regular expression: ") +
                                                  e.what());
            }
            return std::optional<std::string>();
        });
    }
    // Mark the other two as known, so that the unknown-key check does not name
    // them.
    for (auto key : {"name", "command_line", "command_regex"})
        if (!map.has(key)) map.get_string(key, "");
    return m;
}

bool matches(const matcher& m, const std::filesystem::path& dir) {
    if (m.kind == matcher::by::name) {
        auto comm = read_file(dir / "comm", 4096);
        return comm && trim(*comm) == m.pattern;
    }
    auto cmdline = read_file(dir / "cmdline", 1 << 20);
    if (!cmdline || cmdline->empty()) return false;
    std::string line = *cmdline;
    std::replace(line.begin(), line.end(), '\0', ' ');
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (m.kind == matcher::by::substring) return line.find(m.pattern) != std::string::npos;
    return std::regex_search(line, *m.regex);
}

bool is_pid(const std::string& name) {
    return !name.empty() &&
           std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

check_fn read_process(config_map& map) {
    auto m = read_matcher(map);
    auto min = map.get_int("min", 1, 0, 1'000'000);
    auto max = map.get_int("max", -1, 0, 1'000'000);
    if (map.has("max") && max < min)
        map.fail("max", "max (" + std::to_string(max) + ") cannot be below min (" +
                            std::to_string(min) + ")");
    return [m, min, max](const run_context& ctx) {
        auto proc = ctx.path("/proc");
        std::error_code ec;
        std::filesystem::directory_iterator it(proc, ec);
        if (ec) return unknown("cannot list " + proc.string() + ": " + ec.message());
        auto self = std::to_string(::getpid());
        std::int64_t count = 0;
        for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
            if (ec) return unknown("cannot list " + proc.string() + ": " + ec.message());
            auto name = it->path().filename().string();
            if (!is_pid(name) || name == self) continue;
            if (matches(m, it->path())) ++count;
        }
        std::string message =
            std::to_string(count) + (count == 1 ? " process " : " processes ") + m.describe();
        auto status = check_status::ok;
        if (count < min) {
            status = check_status::critical;
            message += " (expected at least " + std::to_string(min) + ")";
        } else if (max >= 0 && count > max) {
            status = check_status::critical;
            message += " (expected at most " + std::to_string(max) + ")";
        }
        return outcome_of(status, message, static_cast<double>(count), "");
    };
}

}  // namespace muster::agent::checks
