#include "agent/inventory/network_addresses.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstdint>

namespace muster::agent::inventory {

namespace {

template <std::size_t N>
std::optional<std::string> to_text(int family, const std::array<std::uint8_t, N>& bytes) {
    char text[INET6_ADDRSTRLEN] = {};
    if (!::inet_ntop(family, bytes.data(), text, sizeof text)) return std::nullopt;
    return std::string(text);
}

// Each group of 8 hex digits is one little-endian 32-bit word.
template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> bytes_from_le_words(std::string_view hex) {
    std::array<std::uint8_t, N> bytes{};
    for (std::size_t word = 0; word < N / 4; ++word) {
        auto value = parse_hex_u32(hex.substr(word * 8, 8));
        if (!value) return std::nullopt;
        for (std::size_t b = 0; b < 4; ++b)
            bytes[word * 4 + b] = static_cast<std::uint8_t>(*value >> (8 * b));
    }
    return bytes;
}

}  // namespace

std::optional<unsigned> parse_hex_u32(std::string_view hex) {
    if (hex.empty() || hex.size() > 8) return std::nullopt;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
    if (ec != std::errc() || end != hex.data() + hex.size()) return std::nullopt;
    return value;
}

std::optional<std::string> address_from_host_order_hex(std::string_view hex) {
    if (hex.size() == 8) {
        auto bytes = bytes_from_le_words<4>(hex);
        return bytes ? to_text(AF_INET, *bytes) : std::nullopt;
    }
    if (hex.size() == 32) {
        auto bytes = bytes_from_le_words<16>(hex);
        return bytes ? to_text(AF_INET6, *bytes) : std::nullopt;
    }
    return std::nullopt;
}

std::optional<std::string> ipv6_from_network_order_hex(std::string_view hex) {
    if (hex.size() != 32) return std::nullopt;
    std::array<std::uint8_t, 16> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto value = parse_hex_u32(hex.substr(i * 2, 2));
        if (!value) return std::nullopt;
        bytes[i] = static_cast<std::uint8_t>(*value);
    }
    return to_text(AF_INET6, bytes);
}

}  // namespace muster::agent::inventory
