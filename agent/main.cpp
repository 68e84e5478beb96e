// muster-agent: the command line of the agent. Each subcommand is a function below.
#include "agent/checks/runner.h"
#include "agent/config.h"
#include "agent/daemon.h"
#include "agent/inventory/collectors.h"
#include "common/json.h"
#include "common/logging.h"
#include "common/version_info.h"

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* usage_text =
    "usage: muster-agent [--log-level LEVEL] <command> [options]\n"
    "\n"
    "commands:\n"
    "  inventory [--root DIR] [--config FILE] [--pretty]\n"
    "                                      print this machine's inventory as JSON\n"
    "  check --config FILE [--pretty]      run every configured health check once and print\n"
    "                                      the results as JSON (exit 0 whatever they say)\n"
    "  once --config FILE                  enroll if needed, take the inventory, deliver\n"
    "                                      everything pending, and exit: 0 acknowledged,\n"
    "                                      1 not delivered (see the log), 2 config error,\n"
    "                                      3 enrollment waits for approval\n"
    "  run --config FILE                   the daemon, in the foreground (SIGTERM stops,\n"
    "                                      SIGHUP reloads the config)\n"
    "  version                             print the version\n"
    "\n"
    "  --root DIR         read /proc, /sys, /etc, /var ... under DIR instead of / (fixture trees)\n"
    "  --config FILE      agent configuration; see config/agent.yaml\n"
    "  --pretty           indent the JSON\n"
    "  --log-level LEVEL  trace, debug, info, warn or error; overrides the config file\n";

int usage_error(std::string_view message) {
    std::cerr << "muster-agent: " << message << "\n\n" << usage_text;
    return 2;
}

struct global_options {
    std::optional<std::string> log_level;
};

// Reads the configuration (defaults without a file) and starts logging. Throws config_error.
muster::agent::agent_config start(
    const global_options& global, const std::optional<std::string>& config_path,
    muster::agent::config_use use = muster::agent::config_use::inventory) {
    muster::agent::agent_config config;
    if (config_path) config = muster::agent::load_agent_config(*config_path, use);
    if (global.log_level) config.log.level = *global.log_level;
    muster::setup_logging(config.log);
    return config;
}

int write_json(const boost::json::value& document, bool pretty) {
    std::string text =
        pretty ? muster::to_pretty_json(document) : boost::json::serialize(document) + "\n";
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) return 1;
    return std::fflush(stdout) == 0 ? 0 : 1;
}

int run_inventory(const global_options& global, const std::vector<std::string_view>& args) {
    std::string root = "/";
    std::optional<std::string> config_path;
    bool pretty = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--pretty") {
            pretty = true;
        } else if (args[i] == "--root") {
            if (i + 1 >= args.size()) return usage_error("--root needs a directory");
            root = args[++i];
        } else if (args[i] == "--config") {
            if (i + 1 >= args.size()) return usage_error("--config needs a file");
            config_path = args[++i];
        } else {
            return usage_error("unknown option for inventory: " + std::string(args[i]));
        }
    }
    auto config = start(global, config_path);
    muster::agent::inventory::context ctx(root, config.tags);
    return write_json(muster::agent::inventory::collect_inventory(ctx), pretty);
}

int run_check(const global_options& global, const std::vector<std::string_view>& args) {
    std::optional<std::string> config_path;
    bool pretty = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--pretty") {
            pretty = true;
        } else if (args[i] == "--config") {
            if (i + 1 >= args.size()) return usage_error("--config needs a file");
            config_path = args[++i];
        } else {
            return usage_error("unknown option for check: " + std::string(args[i]));
        }
    }
    if (!config_path) return usage_error("check needs --config FILE");
    auto config = start(global, config_path);
    namespace checks = muster::agent::checks;
    return write_json(checks::to_json(checks::run_all(config.checks)), pretty);
}

// once and run: the only option is --config, which is required.
int run_delivery(std::string_view command, const global_options& global,
                 const std::vector<std::string_view>& args) {
    if (args.size() != 2 || args[0] != "--config")
        return usage_error(std::string(command) + " needs --config FILE and nothing else");
    std::string path(args[1]);
    auto config = start(global, path, muster::agent::config_use::delivery);
    if (command == "once") return muster::agent::run_once(config);
    return muster::agent::run_daemon(path, std::move(config), global.log_level);
}

int run_command(std::string_view command, const global_options& global,
                const std::vector<std::string_view>& args) {
    if (command == "inventory") return run_inventory(global, args);
    if (command == "check") return run_check(global, args);
    if (command == "once" || command == "run") return run_delivery(command, global, args);
    if (command == "version" || command == "--version") {
        std::cout << "muster-agent " << muster::product_version << "\n";
        return 0;
    }
    if (command == "help" || command == "--help" || command == "-h") {
        std::cout << usage_text;
        return 0;
    }
    return usage_error("unknown command: " + std::string(command));
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    global_options global;
    while (!args.empty() && args.front() == "--log-level") {
        if (args.size() < 2) return usage_error("--log-level needs a level");
        if (!muster::parse_log_level(args[1])) {
            return usage_error("unknown log level: " + std::string(args[1]));
        }
        global.log_level = args[1];
        args.erase(args.begin(), args.begin() + 2);
    }
    if (args.empty()) return usage_error("missing command");
    auto command = args.front();
    args.erase(args.begin());
    try {
        return run_command(command, global, args);
    } catch (const muster::config_error& e) {
        std::cerr << "muster-agent: " << e.what() << "\n";
        return 2;
    }
}
