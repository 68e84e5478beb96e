#pragma once
// Parser of an rpm header blob as the rpm database stores it: no lead, no magic, starting
// directly with the index length. Public format (the "header structure" of the RPM file
// format): big-endian int32 il (index entries), int32 dl (data bytes), il entries of 16 bytes
// {tag, type, offset, count}, then dl bytes of data the entries point into.
//
// The blob comes from a file anyone with root can garble, so every offset, count and string
// is bounds-checked; a bad blob yields a problem with its byte position, never a crash.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>

namespace muster::agent::inventory {

struct rpm_header {
    std::string name, version, release;
    std::optional<std::string> arch;  // gpg-pubkey pseudo packages have none
    std::optional<std::uint32_t> epoch;
    std::optional<std::string> vendor;
    std::optional<std::uint32_t> install_time;
    std::optional<std::uint64_t> size;  // LONGSIZE when present, else SIZE
};

struct rpm_header_problem {
    std::size_t byte;  // offset in the blob
    std::string what;
};

std::variant<rpm_header, rpm_header_problem> parse_rpm_header(std::span<const unsigned char> blob);

// "[EPOCH:]VERSION-RELEASE", as `rpm -q --qf '%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}'`.
std::string rpm_display_version(const rpm_header& h);

}  // namespace muster::agent::inventory
