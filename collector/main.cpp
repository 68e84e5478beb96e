// muster-collector: the command line of the collector. Each subcommand is a function below.
#include "collector/config.h"
#include "collector/init.h"
#include "collector/serve.h"
#include "collector/sqlite_store.h"
#include "common/logging.h"
#include "common/version_info.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <filesystem>
#include <initializer_list>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace muster::collector;

constexpr const char* usage_text =
    "usage: muster-collector <command> [options]\n"
    "\n"
    "commands:\n"
    "  init --dir DIR [--listen HOST:PORT]   create a CA, certificates, tokens and config\n"
    "                                        files in DIR (listen default 127.0.0.1:8443)\n"
    "  serve --config FILE                   run the collector in the foreground\n"
    "  backup --config FILE --to PATH        consistent online copy of the CMDB\n"
    "  version                               print the version\n";

int usage_error(std::string_view message) {
    std::cerr << "muster-collector: " << message << "\n\n" << usage_text;
    return 2;
}

// Options of the form --name VALUE; nullopt (after printing why) for anything else.
std::optional<std::map<std::string, std::string>> parse_options(
    const std::vector<std::string_view>& args, std::initializer_list<std::string_view> known) {
    std::map<std::string, std::string> options;
    for (std::size_t i = 0; i < args.size(); ++i) {
        bool is_known = std::find(known.begin(), known.end(), args[i]) != known.end();
        if (!is_known || i + 1 >= args.size()) {
            usage_error(is_known ? std::string(args[i]) + " needs a value"
                                 : "unknown option '" + std::string(args[i]) + "'");
            return std::nullopt;
        }
        options[std::string(args[i])] = std::string(args[i + 1]);
        ++i;
    }
    return options;
}

int run_init(const std::vector<std::string_view>& args) {
    auto options = parse_options(args, {"--dir", "--listen"});
    if (!options) return 2;
    if (!options->contains("--dir")) return usage_error("init needs --dir DIR");
    std::string listen_text =
        options->contains("--listen") ? (*options)["--listen"] : "127.0.0.1:8443";
    auto listen = parse_listen_address(listen_text);
    if (!listen) return usage_error("--listen expects HOST:PORT, such as 127.0.0.1:8443");
    try {
        std::cout << describe(initialize_installation((*options)["--dir"], *listen));
        return 0;
    } catch (const init_error& e) {
        std::cerr << "muster-collector: " << e.what() << "\n";
        return 1;
    }
}

std::optional<collector_config> load_config(const std::string& path) {
    try {
        auto config = load_collector_config(path);
        muster::setup_logging(config.log);
        return config;
    } catch (const muster::config_error& e) {
        std::cerr << e.what() << "\n";
        return std::nullopt;
    }
}

int run_serve(const std::vector<std::string_view>& args) {
    auto options = parse_options(args, {"--config"});
    if (!options) return 2;
    if (!options->contains("--config")) return usage_error("serve needs --config FILE");
    auto config = load_config((*options)["--config"]);
    if (!config) return 2;
    if (::geteuid() == 0) {
        // Not refused: a test or a container may need it. The packaged unit runs as muster.
        muster::get_logger("collector")
            ->warn("running as root: run the collector as an unprivileged user (docs/security.md)");
    }
    return serve(*config);
}

int run_backup(const std::vector<std::string_view>& args) {
    auto options = parse_options(args, {"--config", "--to"});
    if (!options) return 2;
    if (!options->contains("--config") || !options->contains("--to")) {
        return usage_error("backup needs --config FILE and --to PATH");
    }
    auto config = load_config((*options)["--config"]);
    if (!config) return 2;
    // Opening a missing database would create an empty one and back that up, silently.
    if (!std::filesystem::exists(config->database)) {
        std::cerr << "muster-collector: backup: no CMDB at " << config->database.string()
                  << " (the 'database' key of " << (*options)["--config"] << ")\n";
        return 1;
    }
    open_sqlite_store(config->database)->backup_to((*options)["--to"]);
    std::cout << "backed up " << config->database.string() << " to " << (*options)["--to"] << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // Whatever the collector creates (the database and its -wal/-shm, backups, logs) holds
    // inventories or secrets: readable by its own user only, whatever umask it was given.
    ::umask(077);
    std::vector<std::string_view> args(argv + 1, argv + argc);
    if (args.empty()) return usage_error("no command");
    std::string_view command = args.front();
    args.erase(args.begin());
    try {
        if (command == "version" || command == "--version") {
            std::cout << "muster-collector " << muster::product_version << "\n";
            return 0;
        }
        if (command == "init") return run_init(args);
        if (command == "serve") return run_serve(args);
        if (command == "backup") return run_backup(args);
        if (command == "--help" || command == "help") {
            std::cout << usage_text;
            return 0;
        }
    } catch (const std::exception& e) {
        std::cerr << "muster-collector: " << e.what() << "\n";
        return 1;
    }
    return usage_error("unknown command '" + std::string(command) + "'");
}
