// The real agent on this machine lists exactly the packages dpkg-query says are installed.
#include "support/dpkg_oracle.h"
#include "support/process.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <set>
#include <sstream>
#include <tuple>

namespace {

using entry = muster::test::dpkg_entry;
using muster::test::dpkg_query_installed;

}  // namespace

TEST_CASE("software: the agent's deb packages are exactly dpkg-query's installed ones") {
    auto expected = dpkg_query_installed();
    REQUIRE_FALSE(expected.empty());  // this test runs on a Debian machine

    auto result = muster::test::run({MUSTER_AGENT_BIN, "inventory"});
    REQUIRE(result.exit_code == 0);
    auto document = boost::json::parse(result.out).as_object();

    std::multiset<entry> listed;
    std::size_t deb_count = 0;
    for (const auto& value : document.at("software").as_array()) {
        const auto& p = value.as_object();
        if (p.at("source") != "deb") continue;
        ++deb_count;
        listed.emplace(std::string(p.at("name").as_string()),
                       std::string(p.at("version").as_string()),
                       std::string(p.at("arch").as_string()));
    }
    CHECK(deb_count == expected.size());
    CHECK(listed == expected);

    for (const auto& value : document.at("errors").as_array())
        CHECK(value.as_object().at("path") != "/var/lib/dpkg/status");
}
