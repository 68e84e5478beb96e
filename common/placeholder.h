#pragma once
// Firmware and vendors fill identity fields they do not know with filler text ("To Be Filled
// By O.E.M.", "0123456789", an all-zero UUID). Such a value identifies nothing and, taken as
// an identity, would merge unrelated machines. The agent reports these fields as null, and
// the collector applies the same filter when it reconciles identities, so the rule lives here
// once. All comparisons ignore case and surrounding whitespace.
#include <optional>
#include <string>
#include <string_view>

namespace muster {

// True for blanks, known filler text, UUIDs or serials made of one repeated character
// ("00000000", "FFFFFFFF-FFFF-...", "xxxxxxx") and well-known fake serials/UUIDs.
bool is_placeholder(std::string_view value);

// The trimmed value when it can identify a machine or part (serial, UUID, asset tag);
// nullopt when it is a placeholder.
std::optional<std::string> identity_value(std::string_view value);

// The trimmed value for descriptive text (vendor, product name, version); nullopt only for
// blanks and known filler text. Unlike identity_value it keeps short values such as "1",
// which are legitimate versions.
std::optional<std::string> descriptive_value(std::string_view value);

}  // namespace muster
