// muster-collector: the command line of the collector.
#include "common/version_info.h"

#include <iostream>
#include <string_view>

int main(int argc, char** argv) {
    std::string_view command = argc > 1 ? argv[1] : "";
    if (command == "version" || command == "--version") {
        std::cout << "muster-collector " << muster::product_version << "\n";
        return 0;
    }
    std::cerr << "muster-collector: the collector is not built yet; only 'version' works\n";
    return 2;
}
