#pragma once
// Decoding of the hexadecimal addresses in /proc/net files, shared by the "network" and
// "listening_ports" sections. Two encodings exist:
//   - /proc/net/{route,tcp,tcp6,udp,udp6} print each 32-bit word of an address as the
//     host's integer (%08X), so on little-endian hosts every word is byte-reversed; these
//     files are decoded as little-endian, the byte order of every host the agent targets.
//   - /proc/net/{if_inet6,ipv6_route} print the 16 bytes in network order.
// All functions return nullopt for text that is not exactly such an address.
#include <optional>
#include <string>
#include <string_view>

namespace muster::agent::inventory {

// "0100007F" -> "127.0.0.1"; 32 hex digits -> IPv6 text. Little-endian words.
std::optional<std::string> address_from_host_order_hex(std::string_view hex);

// 32 hex digits in network byte order -> IPv6 text ("fe80::1").
std::optional<std::string> ipv6_from_network_order_hex(std::string_view hex);

// Parses a hexadecimal unsigned number of at most 8 digits.
std::optional<unsigned> parse_hex_u32(std::string_view hex);

}  // namespace muster::agent::inventory
