// The network section of the live system against `ip -j addr` (iproute2, netlink).
#include "agent/inventory/collectors.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <tuple>

using namespace muster::agent::inventory;

namespace {

using address_key = std::tuple<std::string, std::string, std::int64_t>;  // family, address, prefix

struct link_facts {
    boost::json::value mac;
    std::int64_t mtu = 0;
    std::set<address_key> addresses;
};

std::map<std::string, link_facts> from_ip() {
    auto result = muster::test::run({"ip", "-j", "addr"});
    REQUIRE(result.exit_code == 0);
    auto listed = boost::json::parse(result.out);
    std::map<std::string, link_facts> out;
    for (const auto& link : listed.as_array()) {
        link_facts facts;
        const auto& l = link.as_object();
        facts.mac = l.contains("address") ? l.at("address") : boost::json::value(nullptr);
        facts.mtu = l.at("mtu").to_number<std::int64_t>();
        for (const auto& a : l.at("addr_info").as_array())
            facts.addresses.insert({std::string(a.at("family").as_string()),
                                    std::string(a.at("local").as_string()),
                                    a.at("prefixlen").to_number<std::int64_t>()});
        out[std::string(l.at("ifname").as_string())] = std::move(facts);
    }
    return out;
}

std::map<std::string, link_facts> from_collector() {
    error_list errors;
    auto network = collect_network(context("/"), errors);
    for (const auto& e : errors.entries()) UNSCOPED_INFO(e.path << ": " << e.reason);
    CHECK(errors.entries().empty());
    std::map<std::string, link_facts> out;
    for (const auto& i : network.at("interfaces").as_array()) {
        link_facts facts;
        facts.mac = i.at("mac");
        facts.mtu = i.at("mtu").to_number<std::int64_t>();
        for (const auto& a : i.at("addresses").as_array())
            facts.addresses.insert({std::string(a.at("family").as_string()),
                                    std::string(a.at("address").as_string()),
                                    a.at("prefix").to_number<std::int64_t>()});
        out[std::string(i.at("name").as_string())] = std::move(facts);
    }
    return out;
}

}  // namespace

TEST_CASE("network: same interfaces, MACs, MTUs and addresses as ip -j addr") {
    auto expected = from_ip();
    auto ours = from_collector();
    std::set<std::string> expected_names, our_names;
    for (const auto& [name, unused] : expected) expected_names.insert(name);
    for (const auto& [name, unused] : ours) our_names.insert(name);
    REQUIRE(our_names == expected_names);
    for (const auto& [name, facts] : expected) {
        INFO("interface " << name);
        CHECK(ours[name].mac == facts.mac);
        CHECK(ours[name].mtu == facts.mtu);
        CHECK(ours[name].addresses == facts.addresses);
    }
}

TEST_CASE("network: default gateways agree with ip route") {
    error_list errors;
    auto network = collect_network(context("/"), errors);
    std::set<std::string> ours;
    for (const auto& g : network.at("default_gateways").as_array()) ours.emplace(g.as_string());
    std::set<std::string> expected;
    for (const char* family : {"-4", "-6"}) {
        auto result = muster::test::run({"ip", "-j", family, "route", "show", "default"});
        REQUIRE(result.exit_code == 0);
        auto routes = boost::json::parse(result.out.empty() ? "[]" : result.out);
        for (const auto& r : routes.as_array())
            if (r.as_object().contains("gateway")) expected.emplace(r.at("gateway").as_string());
    }
    CHECK(ours == expected);
}
