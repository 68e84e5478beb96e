#include "common/placeholder.h"

#include <catch2/catch.hpp>

using muster::descriptive_value;
using muster::identity_value;
using muster::is_placeholder;

TEST_CASE("filler text from firmware is a placeholder, whatever its case") {
    for (const char* filler :
         {"To Be Filled By O.E.M.", "to be filled by o.e.m.", "Not Specified", "Default string",
          "System Serial Number", "0123456789", "None", "N/A", "Not Applicable",
          "Chassis Serial Number", "Base Board Serial Number", "OEM", "  Not Specified  ",
          "DEFAULT STRING"}) {
        INFO(filler);
        CHECK(is_placeholder(filler));
        CHECK_FALSE(identity_value(filler));
    }
}

TEST_CASE("blank and one-character-repeated values are placeholders") {
    for (const char* filler :
         {"", "   ", "\n", "00000000", "xxxxxxx", "XXXxxx", "FFFFFFFF", "0",
          "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
          "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", "03000200-0400-0500-0006-000700080009"}) {
        INFO(filler);
        CHECK(is_placeholder(filler));
    }
}

TEST_CASE("real serials and UUIDs are kept, trimmed") {
    CHECK_FALSE(is_placeholder("7XJ2K42"));
    CHECK_FALSE(is_placeholder("4c4c4544-0058-4a10-8032-b7c04f4b3432"));
    CHECK_FALSE(is_placeholder("00000001"));
    CHECK_FALSE(is_placeholder("NoneSuch"));  // only the whole value counts
    CHECK(identity_value("  S123456X9A01234\n") == "S123456X9A01234");
}

TEST_CASE("descriptive text keeps short legitimate values but drops filler") {
    CHECK(descriptive_value("1") == "1");
    CHECK(descriptive_value("00") == "00");
    CHECK(descriptive_value(" Supermicro ") == "Supermicro");
    CHECK_FALSE(descriptive_value("To Be Filled By O.E.M."));
    CHECK_FALSE(descriptive_value("  "));
}
