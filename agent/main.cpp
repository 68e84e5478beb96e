// muster-agent: the command line of the agent. Each subcommand is a function below.
#include "agent/inventory/collectors.h"
#include "common/json.h"
#include "common/version_info.h"

#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* usage_text =
    "usage: muster-agent <command> [options]\n"
    "\n"
    "commands:\n"
    "  inventory [--root DIR] [--pretty]   print this machine's inventory as JSON\n"
    "  version                             print the version\n"
    "\n"
    "  --root DIR   read /proc, /sys, /etc, /var ... under DIR instead of / (fixture trees)\n"
    "  --pretty     indent the JSON\n";

int usage_error(std::string_view message) {
    std::cerr << "muster-agent: " << message << "\n\n" << usage_text;
    return 2;
}

int run_inventory(const std::vector<std::string_view>& args) {
    std::string root = "/";
    bool pretty = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--pretty") {
            pretty = true;
        } else if (args[i] == "--root") {
            if (i + 1 >= args.size()) return usage_error("--root needs a directory");
            root = args[++i];
        } else {
            return usage_error("unknown option for inventory: " + std::string(args[i]));
        }
    }
    muster::agent::inventory::context ctx(root);
    auto document = muster::agent::inventory::collect_inventory(ctx);
    std::string text = pretty ? muster::to_pretty_json(document)
                              : boost::json::serialize(document) + "\n";
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) return 1;
    return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    if (args.empty()) return usage_error("missing command");
    auto command = args.front();
    args.erase(args.begin());
    if (command == "inventory") return run_inventory(args);
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
