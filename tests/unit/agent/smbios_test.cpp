// The SMBIOS parser on the crafted table of the server fixture (tests/fixtures/make-smbios.py)
// and on tables broken on purpose.
#include "agent/inventory/smbios.h"
#include "common/file.h"

#include <catch2/catch.hpp>

#include <string>

using namespace muster::agent::inventory;

namespace {

std::string fixture_table() {
    auto content = muster::read_file(MUSTER_FIXTURES "/roots/server/sys/firmware/dmi/tables/DMI");
    REQUIRE(content);
    return *content;
}

// One structure: header, body, string set.
std::string structure(std::uint8_t type, std::string body,
                      std::string strings = std::string(2, '\0')) {
    std::string s;
    s += static_cast<char>(type);
    s += static_cast<char>(body.size() + 4);
    s += '\x34';
    s += '\x12';
    return s + body + strings;
}

}  // namespace

TEST_CASE("the fixture table parses completely") {
    auto table = parse_smbios(fixture_table());
    CHECK_FALSE(table.corruption);
    REQUIRE(table.structures.size() == 10);  // 0, 1, 2, 3, five type 17, end of table
    CHECK(table.structures.back().type == 127);
    CHECK(table.of_type(17).size() == 5);
    const auto& bios = *table.of_type(0).front();
    CHECK(bios.string_at(0x04) == "American Megatrends International, LLC.");
    CHECK(bios.string_at(0x05) == "3.4");
    CHECK(bios.string_at(0x08) == "10/27/2020");
    CHECK(bios.word_at(0x06) == 0xF000);
}

TEST_CASE("type 17 decoding: extended size, MiB and KiB units, extended speed, empty slot") {
    auto table = parse_smbios(fixture_table());
    auto devices = table.of_type(17);
    REQUIRE(devices.size() == 5);

    auto a1 = decode_memory_device(*devices[0]);
    REQUIRE(a1);
    CHECK(a1->slot == "DIMMA1");
    CHECK(a1->size_bytes == 32ull << 30);
    CHECK(a1->type == "DDR4");
    CHECK(a1->speed_mts == 2933);
    CHECK(a1->manufacturer == "Samsung");
    CHECK(a1->serial == "40CD1A2B");
    CHECK(a1->part_number == "M393A4K40DB2-CVF    ");  // trimming is the collector's job

    CHECK_FALSE(decode_memory_device(*devices[1]));  // size 0: no device installed

    auto b1 = decode_memory_device(*devices[2]);
    REQUIRE(b1);
    CHECK(b1->size_bytes == 16ull << 30);

    auto b2 = decode_memory_device(*devices[3]);
    REQUIRE(b2);
    CHECK(b2->size_bytes == 1024ull * 1024);  // 1024 KiB
    CHECK(b2->type == "DDR5");
    CHECK(b2->speed_mts == 4800);

    auto c1 = decode_memory_device(*devices[4]);
    REQUIRE(c1);
    CHECK_FALSE(c1->size_bytes);  // 0xFFFF: unknown
    CHECK_FALSE(c1->type);        // 0x02: Unknown
    CHECK_FALSE(c1->speed_mts);   // 0: unknown
}

TEST_CASE("the type 1 UUID has its first three fields little-endian") {
    auto table = parse_smbios(fixture_table());
    auto system = table.of_type(1);
    REQUIRE(system.size() == 1);
    CHECK(system_uuid(*system.front()) == "4c4c4544-0042-3510-8052-b4c04f4d3732");
}

TEST_CASE("a short (SMBIOS 2.1) type 17 has no speed or strings, and is still decoded") {
    std::string body(0x15 - 4, '\0');
    body[0x0C - 4] = 0x00;  // 1024 MiB
    body[0x0D - 4] = 0x04;
    body[0x12 - 4] = 0x12;  // DDR
    auto table = parse_smbios(structure(17, body));
    REQUIRE(table.structures.size() == 1);
    auto device = decode_memory_device(table.structures.front());
    REQUIRE(device);
    CHECK(device->size_bytes == 1ull << 30);
    CHECK(device->type == "DDR");
    CHECK_FALSE(device->speed_mts);
    CHECK_FALSE(device->slot);
}

TEST_CASE("string numbers out of range are null, not a read past the string set") {
    std::string body(0x1B - 4, '\0');
    body[0x10 - 4] = 1;   // "A1"
    body[0x17 - 4] = 7;   // no seventh string
    body[0x18 - 4] = -1;  // 255
    auto table = parse_smbios(structure(17, body, std::string("A1\0\0", 4)));
    REQUIRE(table.structures.size() == 1);
    const auto& s = table.structures.front();
    CHECK(s.string_at(0x10) == "A1");
    CHECK_FALSE(s.string_at(0x17));
    CHECK_FALSE(s.string_at(0x18));
    CHECK_FALSE(s.string_at(0x40));  // beyond the formatted area
    CHECK_FALSE(s.dword_at(0x18));
}

TEST_CASE("corrupt tables stop the parse at the reported byte, keeping what came before") {
    auto good = structure(0, std::string(0x14, '\0'));  // 24 bytes + 2 NULs = 26
    REQUIRE(good.size() == 26);

    SECTION("truncated header") {
        auto table = parse_smbios(good + std::string("\x11\x20", 2));
        CHECK(table.structures.size() == 1);
        CHECK(table.corruption == "corrupt at byte 26: truncated structure header");
    }
    SECTION("length below the header size") {
        auto table = parse_smbios(good + std::string("\x11\x02\x00\x00\x00\x00", 6));
        CHECK(table.structures.size() == 1);
        CHECK(table.corruption == "corrupt at byte 27: structure length 2 below 4");
    }
    SECTION("formatted area past the end") {
        auto table = parse_smbios(good + std::string("\x11\xff\x00\x00\x01\x02", 6));
        CHECK(table.corruption ==
              "corrupt at byte 26: structure of length 255 runs past the end of the table");
    }
    SECTION("string set never terminated") {
        auto table = parse_smbios(good + structure(1, std::string(4, '\x01'), "abc"));
        CHECK(table.structures.size() == 1);
        CHECK(table.corruption == "corrupt at byte 34: unterminated string set");
    }
    SECTION("string set without its final NUL") {
        auto table =
            parse_smbios(good + structure(1, std::string(4, '\x01'), std::string("abc\0", 4)));
        CHECK(table.corruption == "corrupt at byte 38: string set without its final NUL");
    }
    SECTION("empty input and random bytes never crash") {
        CHECK(parse_smbios("").structures.empty());
        std::string noise;
        for (int i = 0; i < 4096; ++i) noise += static_cast<char>((i * 7919 + 13) % 251);
        auto table = parse_smbios(noise);
        for (const auto& s : table.structures) (void)decode_memory_device(s);
        SUCCEED();
    }
}

TEST_CASE("chassis and memory type names follow the specification tables") {
    CHECK(chassis_type_name(0x03) == "Desktop");
    CHECK(chassis_type_name(0x17) == "Rack Mount Chassis");
    CHECK(chassis_type_name(0x97) == "Rack Mount Chassis");  // lock bit set
    CHECK(chassis_type_name(0x0A) == "Notebook");
    CHECK_FALSE(chassis_type_name(0x02));
    CHECK_FALSE(chassis_type_name(0x40));
    CHECK(memory_type_name(0x18) == "DDR3");
    CHECK(memory_type_name(0x1A) == "DDR4");
    CHECK(memory_type_name(0x22) == "DDR5");
    CHECK(memory_type_name(0x1E) == "LPDDR4");
    CHECK_FALSE(memory_type_name(0x02));
    CHECK_FALSE(memory_type_name(0x16));
    CHECK_FALSE(memory_type_name(0xFF));
}
