#include "common/placeholder.h"

#include "common/file.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace muster {

namespace {

// Filler text seen in DMI/SMBIOS fields, lower case.
constexpr std::array<std::string_view, 32> filler_texts = {
    "to be filled by o.e.m.",
    "to be filled by oem",
    "not specified",
    "not applicable",
    "not available",
    "not present",
    "not defined",
    "default string",
    "system serial number",
    "system product name",
    "system manufacturer",
    "system version",
    "chassis serial number",
    "chassis manufacture",
    "chassis version",
    "base board serial number",
    "base board product name",
    "baseboard serial number",
    "asset tag",
    "asset-1234567890",
    "no asset tag",
    "no asset information",
    "0123456789",
    "1234567890",
    "123456789",
    "none",
    "n/a",
    "na",
    "oem",
    "o.e.m.",
    "unknown",
    "invalid",
};

// UUIDs that many boards ship with instead of a unique one.
constexpr std::array<std::string_view, 1> filler_uuids = {
    "03000200-0400-0500-0006-000700080009",
};

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

bool is_filler_text(std::string_view value) {
    auto matches = [value](std::string_view filler) { return equals_ignoring_case(value, filler); };
    return std::any_of(filler_texts.begin(), filler_texts.end(), matches) ||
           std::any_of(filler_uuids.begin(), filler_uuids.end(), matches);
}

// "00000000", "xxxx", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF": one character repeated, with
// the separators of a UUID or a formatted serial ignored.
bool is_one_repeated_character(std::string_view value) {
    char first = 0;
    for (char c : value) {
        if (c == '-' || c == ' ' || c == ':' || c == '.') continue;
        char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (first == 0)
            first = lower;
        else if (lower != first)
            return false;
    }
    return true;  // also true when only separators were present
}

}  // namespace

bool is_placeholder(std::string_view value) {
    value = trim(value);
    return value.empty() || is_filler_text(value) || is_one_repeated_character(value);
}

std::optional<std::string> identity_value(std::string_view value) {
    if (is_placeholder(value)) return std::nullopt;
    return std::string(trim(value));
}

std::optional<std::string> descriptive_value(std::string_view value) {
    value = trim(value);
    if (value.empty() || is_filler_text(value)) return std::nullopt;
    return std::string(value);
}

}  // namespace muster
