#include "agent/inventory/collectors.h"
#include "agent/inventory/network_addresses.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace muster::agent::inventory;

namespace {
boost::json::object interface(const boost::json::value& network, std::string_view name) {
    for (const auto& i : network.at("interfaces").as_array())
        if (i.at("name").as_string() == name) return i.as_object();
    FAIL("no interface " << name);
    return {};
}
boost::json::object address(std::string_view family, std::string_view text, int prefix) {
    return {{"family", family}, {"address", text}, {"prefix", prefix}};
}
}  // namespace

TEST_CASE("network: /proc/net hex addresses decode per their file's byte order") {
    CHECK(address_from_host_order_hex("0101A8C0") == "192.168.1.1");
    CHECK(address_from_host_order_hex("00000000") == "0.0.0.0");
    CHECK(address_from_host_order_hex("B80D0120000000000000000010000000") == "2001:db8::10");
    CHECK(address_from_host_order_hex("0000000000000000FFFF00000100007F") == "::ffff:127.0.0.1");
    CHECK(ipv6_from_network_order_hex("fe80000000000000505400fffe123456") ==
          "fe80::5054:ff:fe12:3456");
    CHECK(!address_from_host_order_hex("0101A8C"));
    CHECK(!address_from_host_order_hex("0101A8CZ"));
    CHECK(!address_from_host_order_hex("-101A8C0"));
    CHECK(!ipv6_from_network_order_hex("fe80"));
}

TEST_CASE("network: interfaces of the debian fixture, with their types") {
    error_list errors;
    auto network = collect_network(context(MUSTER_FIXTURES "/roots/debian"), errors);
    std::vector<std::string> names;
    for (const auto& i : network.at("interfaces").as_array())
        names.emplace_back(i.at("name").as_string());
    CHECK(names == std::vector<std::string>{"bond0", "br0", "enp3s0", "enp3s0.10", "enp4s0", "lo",
                                            "veth1a2b"});
    CHECK(interface(network, "lo").at("type") == "loopback");
    CHECK(interface(network, "br0").at("type") == "bridge");
    CHECK(interface(network, "bond0").at("type") == "bond");
    CHECK(interface(network, "bond0").at("mtu") == 9000);
    CHECK(interface(network, "enp3s0.10").at("type") == "vlan");
    CHECK(interface(network, "enp4s0").at("type") == "physical");
    CHECK(interface(network, "veth1a2b").at("type") == "virtual");
    CHECK(interface(network, "enp4s0").at("speed_mbps").is_null());  // -1 in sysfs
    CHECK(interface(network, "lo").at("speed_mbps").is_null());      // absent
}

TEST_CASE("network: one physical interface in full, IPv4 is reported as live-only") {
    error_list errors;
    auto network = collect_network(context(MUSTER_FIXTURES "/roots/debian"), errors);
    CHECK(interface(network, "enp3s0") ==
          boost::json::object{
              {"name", "enp3s0"},
              {"mac", "52:54:00:12:34:56"},
              {"mtu", 1500},
              {"state", "up"},
              {"speed_mbps", 1000},
              {"type", "physical"},
              {"addresses", boost::json::array{address("inet6", "fe80::5054:ff:fe12:3456", 64),
                                               address("inet6", "2001:db8:0:1::10", 64)}}});
    CHECK(interface(network, "lo").at("addresses") ==
          boost::json::array{address("inet6", "::1", 128)});
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries()[0].path == "/proc/net/fib_trie");
}

TEST_CASE("network: default gateways of both families, DNS behind systemd-resolved") {
    error_list errors;
    auto network = collect_network(context(MUSTER_FIXTURES "/roots/debian"), errors);
    CHECK(network.at("default_gateways") == boost::json::array{"192.168.1.1", "fe80::1"});
    CHECK(network.at("dns_servers") ==
          boost::json::array{"127.0.0.53", "192.168.1.1", "2001:db8::53"});
}

TEST_CASE("network: plain resolv.conf, no route files") {
    error_list errors;
    auto network = collect_network(context(MUSTER_FIXTURES "/roots/container"), errors);
    CHECK(network.at("dns_servers") == boost::json::array{"10.0.0.2", "10.0.0.3"});
    CHECK(network.at("default_gateways").as_array().empty());
}

TEST_CASE("network: a corrupt if_inet6 line is one error, the addresses before it remain") {
    muster::test::temp_dir root;
    std::filesystem::create_directories(root.path() + "/sys/class/net/eth0");
    std::filesystem::create_directories(root.path() + "/proc/net");
    std::ofstream(root.path() + "/sys/class/net/eth0/mtu") << "1500\n";
    std::ofstream(root.path() + "/proc/net/if_inet6")
        << "20010db8000000000000000000000001 02 40 00 00 eth0\n"
           "2001zzzz000000000000000000000002 02 40 00 00 eth0\n"
           "20010db8000000000000000000000003 02 40 00 00 eth0\n";
    error_list errors;
    auto network = collect_network(context(root.path()), errors);
    CHECK(interface(network, "eth0").at("addresses") ==
          boost::json::array{address("inet6", "2001:db8::1", 64)});
    CHECK(interface(network, "eth0").at("mac").is_null());
    REQUIRE(errors.entries().size() == 2);  // IPv4 only live, and the corrupt line
    CHECK(errors.entries()[1].path == "/proc/net/if_inet6");
    CHECK(errors.entries()[1].reason == "corrupt at line 2");
}
