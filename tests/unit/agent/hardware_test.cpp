// Section "hardware" on the fixture trees: sysfs DMI, the crafted SMBIOS table of the server,
// placeholders, a container that must not report its host's identity, and broken inputs.
#include "agent/inventory/collectors.h"
#include "common/file.h"
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
const std::string server_table = fixture("server") + "/sys/firmware/dmi/tables/DMI";

boost::json::object hardware_of(const std::string& root, error_list& errors) {
    return collect_hardware(context(root), errors).as_object();
}

void write(const std::string& root, const std::string& path, const std::string& content) {
    fs::path full = fs::path(root) / path.substr(1);
    fs::create_directories(full.parent_path());
    std::ofstream(full, std::ios::binary) << content;
}

boost::json::object memory_device(std::string slot, std::uint64_t size, std::string type,
                                  std::uint64_t speed, std::string manufacturer,
                                  boost::json::value serial, std::string part) {
    return {{"slot", slot},       {"size_bytes", size},           {"type", type},
            {"speed_mts", speed}, {"manufacturer", manufacturer}, {"serial", serial},
            {"part_number", part}};
}

}  // namespace

TEST_CASE("server: sysfs identity and the memory devices of the SMBIOS table") {
    error_list errors;
    auto h = hardware_of(fixture("server"), errors);
    CHECK(h.at("vendor") == "Supermicro");
    CHECK(h.at("product") == "SYS-1029P-WTR");
    CHECK(h.at("version").is_null());  // "0123456789"
    CHECK(h.at("serial") == "S123456X9A01234");
    CHECK(h.at("product_uuid") == "4c4c4544-0042-3510-8052-b4c04f4d3732");
    CHECK(h.at("board") == boost::json::object{{"vendor", "Supermicro"},
                                               {"product", "X11DPU"},
                                               {"serial", "ZM19AS012345"}});
    CHECK(h.at("chassis") == boost::json::object{{"type", "Rack Mount Chassis"},
                                                 {"serial", "C8160LK19A12345"},
                                                 {"asset_tag", nullptr}});
    CHECK(h.at("bios") == boost::json::object{{"vendor", "American Megatrends International, LLC."},
                                              {"version", "3.4"},
                                              {"date", "10/27/2020"}});
    boost::json::array expected = {
        memory_device("DIMMA1", 32ull << 30, "DDR4", 2933, "Samsung", "40CD1A2B",
                      "M393A4K40DB2-CVF"),
        memory_device("DIMMB1", 16ull << 30, "DDR4", 2933, "Micron", "2F3A4B5C",
                      "36ASF2G72PZ-2G9E1"),
        memory_device("DIMMB2", 1ull << 20, "DDR5", 4800, "SK Hynix", nullptr, "HMCG78AEBRA107N"),
        {{"slot", "DIMMC1"},
         {"size_bytes", nullptr},
         {"type", nullptr},
         {"speed_mts", nullptr},
         {"manufacturer", nullptr},
         {"serial", nullptr},
         {"part_number", nullptr}},
    };  // DIMMA2 is an empty slot and is left out
    CHECK(h.at("memory_devices") == expected);
    CHECK(errors.entries().empty());
}

TEST_CASE("vm: QEMU firmware, no board, no SMBIOS table") {
    error_list errors;
    auto h = hardware_of(fixture("vm"), errors);
    CHECK(h.at("vendor") == "QEMU");
    CHECK(h.at("product") == "Standard PC (Q35 + ICH9, 2009)");
    CHECK(h.at("version") == "pc-q35-7.2");
    CHECK(h.at("serial").is_null());
    CHECK(h.at("product_uuid") == "8b9e6c1a-2f3d-4e5a-9b8c-7d6e5f4a3b2c");
    CHECK(h.at("board") ==
          boost::json::object{{"vendor", nullptr}, {"product", nullptr}, {"serial", nullptr}});
    CHECK(h.at("chassis") ==
          boost::json::object{{"type", "Other"}, {"serial", nullptr}, {"asset_tag", nullptr}});
    CHECK(h.at("bios") == boost::json::object{{"vendor", "SeaBIOS"},
                                              {"version", "1.16.0-debian-1.16.0-5"},
                                              {"date", "04/01/2014"}});
    CHECK(h.at("memory_devices").is_null());
    CHECK(errors.entries().empty());
}

TEST_CASE("container: the host's DMI is readable but its identity is never reported") {
    error_list errors;
    auto h = hardware_of(fixture("container"), errors);
    CHECK(h.at("vendor") == "Dell Inc.");
    CHECK(h.at("product") == "PowerEdge R730");
    CHECK(h.at("version").is_null());
    CHECK(h.at("serial").is_null());
    CHECK(h.at("product_uuid").is_null());
    CHECK(h.at("board") ==
          boost::json::object{{"vendor", "Dell Inc."}, {"product", "072T6D"}, {"serial", nullptr}});
    CHECK(h.at("chassis") == boost::json::object{{"type", "Rack Mount Chassis"},
                                                 {"serial", nullptr},
                                                 {"asset_tag", nullptr}});
    CHECK(h.at("bios") == boost::json::object{{"vendor", "Dell Inc."},
                                              {"version", "2.17.0"},
                                              {"date", "12/06/2022"}});
    CHECK(h.at("memory_devices").is_null());
}

TEST_CASE("debian: a desktop whose firmware is filled with placeholders") {
    error_list errors;
    auto h = hardware_of(fixture("debian"), errors);
    CHECK(h.at("vendor").is_null());
    CHECK(h.at("product").is_null());
    CHECK(h.at("version").is_null());
    CHECK(h.at("serial").is_null());
    CHECK(h.at("product_uuid").is_null());  // the well-known 03000200-... filler UUID
    CHECK(h.at("board") == boost::json::object{{"vendor", "ASRock"},
                                               {"product", "B550M Steel Legend"},
                                               {"serial", "M80-D3012345678"}});
    CHECK(h.at("chassis") ==
          boost::json::object{{"type", "Desktop"}, {"serial", nullptr}, {"asset_tag", nullptr}});
    CHECK(h.at("bios") == boost::json::object{{"vendor", "American Megatrends International, LLC."},
                                              {"version", "P2.10"},
                                              {"date", "05/18/2022"}});
    CHECK(h.at("memory_devices").is_null());
    CHECK(errors.entries().empty());
}

TEST_CASE("without sysfs, identity comes from SMBIOS types 0 to 3") {
    muster::test::temp_dir root;
    fs::create_directories(root.path() + "/sys/firmware/dmi/tables");
    fs::copy_file(server_table, root.path() + "/sys/firmware/dmi/tables/DMI");
    error_list errors;
    auto h = hardware_of(root.path(), errors);
    CHECK(h.at("vendor") == "Supermicro");
    CHECK(h.at("product") == "SYS-1029P-WTR");
    CHECK(h.at("version").is_null());
    CHECK(h.at("serial") == "S123456X9A01234");
    CHECK(h.at("product_uuid") == "4c4c4544-0042-3510-8052-b4c04f4d3732");
    CHECK(h.at("board").at("serial") == "ZM19AS012345");
    CHECK(h.at("chassis") == boost::json::object{{"type", "Rack Mount Chassis"},
                                                 {"serial", "C8160LK19A12345"},
                                                 {"asset_tag", nullptr}});
    CHECK(h.at("bios").at("date") == "10/27/2020");
    CHECK(h.at("memory_devices").as_array().size() == 4);
    CHECK(errors.entries().empty());
}

TEST_CASE("a corrupt SMBIOS table is one error entry, the devices before it are kept") {
    muster::test::temp_dir root;
    auto table = *muster::read_file(server_table);
    // Cut inside the string set of the third memory device (DIMMB1).
    auto cut = table.find("36ASF2G72PZ");
    REQUIRE(cut != std::string::npos);
    write(root.path(), "/sys/firmware/dmi/tables/DMI", table.substr(0, cut + 4));
    write(root.path(), "/sys/class/dmi/id/sys_vendor", "Supermicro\n");
    error_list errors;
    auto h = hardware_of(root.path(), errors);
    CHECK(h.at("vendor") == "Supermicro");
    CHECK(h.at("memory_devices").as_array().size() == 1);  // DIMMA1; DIMMA2 is empty
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries()[0].section == "hardware");
    CHECK(errors.entries()[0].path == "/sys/firmware/dmi/tables/DMI");
    CHECK(errors.entries()[0].reason.starts_with("corrupt at byte "));
}

TEST_CASE("no DMI at all: nulls and one 'absent' entry") {
    muster::test::temp_dir root;
    error_list errors;
    auto h = hardware_of(root.path(), errors);
    CHECK(h.at("vendor").is_null());
    CHECK(h.at("board").at("vendor").is_null());
    CHECK(h.at("memory_devices").is_null());
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries()[0].path == "/sys/class/dmi/id");
    CHECK(errors.entries()[0].reason == "absent");
}
