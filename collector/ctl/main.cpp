// musterctl: the admin command line, a client of the collector's REST API (docs/api.md,
// docs/musterctl.md).
#include "collector/ctl/commands.h"
#include "collector/ctl/errors.h"

#include <exception>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    // "--version" stays the one option that works without a command, as before.
    if (args.size() == 1 && args[0] == "--version") args[0] = "version";
    try {
        return muster::ctl::run_command(args, std::cout, std::cerr);
    } catch (const muster::ctl::ctl_error& e) {
        std::cout.flush();
        std::cerr << "musterctl: " << e.what() << "\n";
        return e.code();
    } catch (const std::exception& e) {
        std::cerr << "musterctl: " << e.what() << "\n";
        return muster::ctl::exit_error;
    }
}
