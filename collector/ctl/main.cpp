// musterctl: the admin command line, a client of the collector's REST API.
#include "common/version_info.h"

#include <iostream>
#include <string_view>

int main(int argc, char** argv) {
    std::string_view command = argc > 1 ? argv[1] : "";
    if (command == "version" || command == "--version") {
        std::cout << "musterctl " << muster::product_version << "\n";
        return 0;
    }
    std::cerr << "musterctl: the admin API is not built yet; only 'version' works\n";
    return 2;
}
