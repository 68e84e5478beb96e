#include "agent/inventory/collectors.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <map>
#include <set>

using namespace muster::agent::inventory;

namespace {
boost::json::object by_name(const boost::json::array& disks, std::string_view name) {
    for (const auto& d : disks)
        if (d.at("name").as_string() == name) return d.as_object();
    FAIL("no disk " << name);
    return {};
}
}  // namespace

TEST_CASE("disks: the debian fixture's devices, in name order, loop/ram/zram left out") {
    error_list errors;
    auto disks = collect_disks(context(MUSTER_FIXTURES "/roots/debian"), errors).as_array();
    CHECK(errors.entries().empty());
    std::vector<std::string> names;
    for (const auto& d : disks) names.emplace_back(d.at("name").as_string());
    CHECK(names == std::vector<std::string>{"dm-0", "dm-1", "md0", "nvme0n1", "nvme0n1p1", "sda",
                                            "sda1", "sda2", "sr0"});
}

TEST_CASE("disks: a SATA disk with serial from VPD page 0x80 and its partitions") {
    error_list errors;
    auto disks = collect_disks(context(MUSTER_FIXTURES "/roots/debian"), errors).as_array();
    CHECK(by_name(disks, "sda") == boost::json::object{{"name", "sda"},
                                                       {"model", "WDC WD10EZEX-00B"},
                                                       {"serial", "WD-WCC3F1234567"},
                                                       {"wwn", "naa.50014ee2b5c1a2b3"},
                                                       {"size_bytes", 1953525168ull * 512},
                                                       {"rotational", true},
                                                       {"removable", false},
                                                       {"type", "disk"}});
    CHECK(by_name(disks, "sda1") == boost::json::object{{"name", "sda1"},
                                                        {"model", nullptr},
                                                        {"serial", nullptr},
                                                        {"wwn", nullptr},
                                                        {"size_bytes", 1048576ull * 512},
                                                        {"rotational", true},
                                                        {"removable", false},
                                                        {"type", "part"}});
}

TEST_CASE("disks: NVMe serial and wwid, and the device types") {
    error_list errors;
    auto disks = collect_disks(context(MUSTER_FIXTURES "/roots/debian"), errors).as_array();
    auto nvme = by_name(disks, "nvme0n1");
    CHECK(nvme.at("serial") == "S4EVNX0N123456A");
    CHECK(nvme.at("wwn") == "eui.0025385b91b2c3d4");
    CHECK(nvme.at("rotational") == false);
    CHECK(by_name(disks, "nvme0n1p1").at("type") == "part");
    CHECK(by_name(disks, "dm-0").at("type") == "lvm");
    CHECK(by_name(disks, "dm-1").at("type") == "crypt");
    CHECK(by_name(disks, "md0").at("type") == "raid");
    CHECK(by_name(disks, "sr0").at("type") == "rom");
    CHECK(by_name(disks, "sr0").at("removable") == true);
}

TEST_CASE("disks: no /sys/block is one error and an empty list") {
    error_list errors;
    auto disks = collect_disks(context(MUSTER_FIXTURES "/empty-root"), errors);
    CHECK(disks.as_array().empty());
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries()[0].reason == "absent");
}

TEST_CASE("disks: the live system agrees with lsblk on names, sizes and flags") {
    error_list errors;
    auto disks = collect_disks(context("/"), errors).as_array();
    auto lsblk = muster::test::run({"lsblk", "-J", "-l", "-b", "-o", "NAME,SIZE,TYPE,ROTA,RM"});
    REQUIRE(lsblk.exit_code == 0);
    std::map<std::string, boost::json::object> expected;
    auto listed = boost::json::parse(lsblk.out);
    for (const auto& d : listed.at("blockdevices").as_array()) {
        auto name = std::string(d.at("name").as_string());
        if (name.starts_with("loop") || name.starts_with("zram") || name.starts_with("ram"))
            continue;
        expected[name] = d.as_object();
    }
    std::set<std::string> ours;
    for (const auto& d : disks) {
        auto name = std::string(d.at("name").as_string());
        ours.insert(name);
        INFO(name);
        REQUIRE(expected.contains(name));
        const auto& e = expected[name];
        CHECK(d.at("size_bytes").to_number<std::uint64_t>() ==
              e.at("size").to_number<std::uint64_t>());
        CHECK(d.at("rotational") == e.at("rota"));
        CHECK(d.at("removable") == e.at("rm"));
    }
    for (const auto& [name, unused] : expected) CHECK(ours.contains(name));
}
