#pragma once
// Small text helpers for the "key: value" files of /proc (cpuinfo, meminfo) and for spotting
// files that are not text at all.
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace muster::agent::inventory {

// The offset of the first byte that cannot occur in a kernel text file (a NUL or another
// control character other than tab, newline, carriage return); nullopt for clean text.
std::optional<std::size_t> first_binary_byte(std::string_view text);

// The lines of text, without their newline characters.
std::vector<std::string_view> split_lines(std::string_view text);

struct key_value {
    std::string_view key;
    std::string_view value;
};

// Splits "key<spaces>: value" into its trimmed halves; nullopt when there is no separator.
std::optional<key_value> split_key_value(std::string_view line, char separator = ':');

// Whitespace-separated words of text.
std::vector<std::string_view> split_words(std::string_view text);

}  // namespace muster::agent::inventory
