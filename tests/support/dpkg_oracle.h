#pragma once
// The real dpkg-query as the oracle for the deb package source: what it lists as installed.
#include "support/process.h"

#include <catch2/catch.hpp>

#include <set>
#include <sstream>
#include <string>
#include <tuple>

namespace muster::test {

using dpkg_entry = std::tuple<std::string, std::string, std::string>;  // name, version, arch

// admindir empty: this machine's dpkg database; else --admindir=admindir (a fixture).
inline std::multiset<dpkg_entry> dpkg_query_installed(const std::string& admindir = "") {
    std::vector<std::string> argv = {"dpkg-query"};
    if (!admindir.empty()) argv.push_back("--admindir=" + admindir);
    argv.insert(argv.end(), {"-W", "-f",
                             "${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Status}\\n"});
    auto result = run(argv);
    REQUIRE(result.exit_code == 0);
    std::multiset<dpkg_entry> out;
    std::istringstream lines(result.out);
    std::string name, version, arch, status;
    while (std::getline(lines, name, '\t') && std::getline(lines, version, '\t') &&
           std::getline(lines, arch, '\t') && std::getline(lines, status))
        if (status == "installed") out.emplace(name, version, arch);
    return out;
}

}  // namespace muster::test
