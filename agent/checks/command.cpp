// command: runs a program (argv, no shell) and reads its result the Nagios
// plugin way, so that every plugin of Debian's monitoring-plugins works
// unchanged: exit status 0, 1, 2, 3 are ok, warning, critical, unknown; the
// first line of stdout is the message. Any other exit status, a death by
// signal, and the timeout (the process group is killed) are unknown: the check
// could not tell.
#include "agent/checks/keys.h"
#include "agent/checks/spawn.h"
#include "agent/checks/types.h"
#include "common/file.h"

#include <string.h>

#include <charconv>

namespace muster::agent::checks {
namespace {

std::string_view first_line(std::string_view text) {
    auto line = text.substr(0, text.find('\n'));
    if (line.ends_with('\r')) line.remove_suffix(1);
    return line;
}

// Splits performance data into its items; a label may be quoted ('free
// space'=3GB).
std::vector<std::string_view> perfdata_items(std::string_view text) {
    std::vector<std::string_view> items;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
        if (i >= text.size()) break;
        auto start = i;
        bool quoted = false;
        for (; i < text.size(); ++i) {
            if (text[i] == '\'') quoted = !quoted;
            if (!quoted && (text[i] == ' ' || text[i] == '\t')) break;
        }
        items.push_back(text.substr(start, i - start));
    }
    return items;
}

// "label=12.5ms;80;90;0;100" to 12.5 and "ms"; no value for "U" or garbage.
void read_datum(std::string_view item, plugin_output& out) {
    auto equals = item.rfind('=');
    if (equals == std::string_view::npos) return;
    auto text = item.substr(equals + 1);
    text = text.substr(0, text.find(';'));
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end == text.data()) return;
    out.value = value;
    out.unit = std::string(text.substr(static_cast<std::size_t>(end - text.data())));
}

std::string signal_name(int signal) {
    const char* name = sigabbrev_np(signal);
    return name ? std::string(" (SIG") + name + ")" : "";
}

std::string describe_exit(const std::string& program, const child_result& r,
                          std::chrono::milliseconds timeout) {
    using ending = child_result::ending;
    switch (r.how) {
        case ending::timed_out:
            return program + " timed out after " + format_duration(timeout) +
                   "; killed with its process group";
        case ending::cancelled:
            return program + " was stopped: the agent is shutting down";
        case ending::signaled:
            return program + " was killed by signal " + std::to_string(r.code) +
                   signal_name(r.code);
        case ending::not_started:
            return r.error;
        case ending::exited:
            return program + " exited with status " + std::to_string(r.code) +
                   ", which is not a plugin result (0 to 3)";
    }
    return "";
}

check_outcome judge(const std::string& program, const child_result& r,
                    std::chrono::milliseconds timeout) {
    auto parsed = parse_plugin_output(r.out);
    if (parsed.message.empty()) parsed.message = std::string(trim(first_line(r.err)));
    if (r.how == child_result::ending::exited && r.code >= 0 && r.code <= 3) {
        if (parsed.message.empty())
            parsed.message = program + " exited with status " + std::to_string(r.code);
        return outcome_of(static_cast<check_status>(r.code), parsed.message, parsed.value,
                          parsed.unit);
    }
    auto message = describe_exit(program, r, timeout);
    if (!parsed.message.empty()) message += ": " + parsed.message;
    return unknown(message);
}

}  // namespace

plugin_output parse_plugin_output(std::string_view stdout_text) {
    plugin_output out;
    auto line = first_line(stdout_text);
    auto bar = line.find('|');
    out.message = std::string(trim(line.substr(0, bar)));
    if (bar == std::string_view::npos) return out;
    auto items = perfdata_items(line.substr(bar + 1));
    if (items.size() == 1) read_datum(items.front(), out);
    return out;
}

check_fn read_command(config_map& map) {
    auto argv = map.get_string_list("argv", {}, 256);
    if (!map.has("argv") || argv.empty())
        map.fail("argv",
                 "a command needs argv: the program (an absolute path) and "
                 "its arguments");
    if (argv.front().empty() || argv.front().front() != '/')
        map.fail("argv",
                 "the program, argv[0], must be an absolute path (no "
                 "shell, no PATH search)");
    return [argv](const run_context& ctx) {
        return judge(argv.front(), run_child(argv, ctx), ctx.timeout);
    };
}

}  // namespace muster::agent::checks
