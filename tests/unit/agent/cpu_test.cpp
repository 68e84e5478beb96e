// Section "cpu" on the fixture trees, an arm64 cpuinfo, and a cpuinfo that is not text.
#include "agent/inventory/collectors.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace muster::agent::inventory;
namespace fs = std::filesystem;

namespace {

std::string fixture(const char* name) {
    return std::string(MUSTER_FIXTURES "/roots/") + name;
}

boost::json::object cpu_of(const std::string& root, error_list& errors) {
    return collect_cpu(context(root), errors).as_object();
}

void write(const std::string& root, const std::string& path, const std::string& content) {
    fs::path full = fs::path(root) / path.substr(1);
    fs::create_directories(full.parent_path());
    std::ofstream(full, std::ios::binary) << content;
}

boost::json::object all_null() {
    return {{"model", nullptr},          {"vendor", nullptr},        {"sockets", nullptr},
            {"physical_cores", nullptr}, {"logical_cores", nullptr}, {"mhz", nullptr}};
}

}  // namespace

TEST_CASE("server: two sockets, two cores each, two threads per core") {
    error_list errors;
    CHECK(cpu_of(fixture("server"), errors) ==
          boost::json::object{{"model", "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz"},
                              {"vendor", "GenuineIntel"},
                              {"sockets", 2},
                              {"physical_cores", 4},
                              {"logical_cores", 8},
                              {"mhz", 2100}});
    CHECK(errors.entries().empty());
}

TEST_CASE("vm: four single-core sockets") {
    error_list errors;
    CHECK(cpu_of(fixture("vm"), errors) ==
          boost::json::object{{"model", "Intel Xeon Processor (Icelake)"},
                              {"vendor", "GenuineIntel"},
                              {"sockets", 4},
                              {"physical_cores", 4},
                              {"logical_cores", 4},
                              {"mhz", 2594}});
}

TEST_CASE("container and debian fixtures") {
    error_list errors;
    auto container = cpu_of(fixture("container"), errors);
    CHECK(container.at("sockets") == 1);
    CHECK(container.at("physical_cores") == 2);
    CHECK(container.at("logical_cores") == 4);
    CHECK(container.at("model") == "Intel(R) Xeon(R) CPU E5-2640 v4 @ 2.40GHz");
    CHECK(cpu_of(fixture("debian"), errors) ==
          boost::json::object{{"model", "AMD Ryzen 7 5700G with Radeon Graphics"},
                              {"vendor", "AuthenticAMD"},
                              {"sockets", 1},
                              {"physical_cores", 8},
                              {"logical_cores", 16},
                              {"mhz", 3800}});
    CHECK(errors.entries().empty());
}

TEST_CASE("arm64: implementer and part codes, topology from sysfs, cpufreq for the clock") {
    muster::test::temp_dir root;
    std::string cpuinfo;
    for (int i = 0; i < 4; ++i) {
        cpuinfo += "processor\t: " + std::to_string(i) +
                   "\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32\n"
                   "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\n"
                   "CPU part\t: 0xd0c\nCPU revision\t: 1\n\n";
        auto dir = "/sys/devices/system/cpu/cpu" + std::to_string(i) + "/topology/";
        write(root.path(), dir + "physical_package_id", "0\n");
        write(root.path(), dir + "core_id", std::to_string(i) + "\n");
    }
    write(root.path(), "/proc/cpuinfo", cpuinfo);
    write(root.path(), "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "3000000\n");
    error_list errors;
    CHECK(cpu_of(root.path(), errors) == boost::json::object{{"model", "Neoverse-N1"},
                                                             {"vendor", "ARM"},
                                                             {"sockets", 1},
                                                             {"physical_cores", 4},
                                                             {"logical_cores", 4},
                                                             {"mhz", 3000}});
    CHECK(errors.entries().empty());

    SECTION("without sysfs topology or cpufreq those fields are null") {
        fs::remove_all(root.path() + "/sys");
        auto cpu = cpu_of(root.path(), errors);
        CHECK(cpu.at("logical_cores") == 4);
        CHECK(cpu.at("sockets").is_null());
        CHECK(cpu.at("physical_cores").is_null());
        CHECK(cpu.at("mhz").is_null());
    }
}

TEST_CASE("binary garbage in /proc/cpuinfo is one error entry and nulls") {
    muster::test::temp_dir root;
    std::string text = "processor\t: 0\nmodel name\t: X";  // 28 bytes of text
    text += std::string("\x01\x02\xff\0\0", 5);
    write(root.path(), "/proc/cpuinfo", text);
    error_list errors;
    CHECK(cpu_of(root.path(), errors) == all_null());
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries()[0].section == "cpu");
    CHECK(errors.entries()[0].path == "/proc/cpuinfo");
    CHECK(errors.entries()[0].reason == "corrupt at byte 28: not text");
}

TEST_CASE("text without processor entries, and a missing file") {
    muster::test::temp_dir root;
    error_list errors;
    CHECK(cpu_of(root.path(), errors) == all_null());
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries()[0].path == "/proc/cpuinfo");

    write(root.path(), "/proc/cpuinfo", "hello world\n");
    error_list more;
    CHECK(cpu_of(root.path(), more) == all_null());
    REQUIRE(more.entries().size() == 1);
    CHECK(more.entries()[0].reason == "corrupt at byte 0: no processor entries");
}
