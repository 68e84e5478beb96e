#pragma once
// A parser for the raw SMBIOS structure table (/sys/firmware/dmi/tables/DMI), written from the
// DMTF SMBIOS Reference Specification (DSP0134, 3.x).
//
// The table is a sequence of structures: a 4-byte header (type, length, handle), the rest of
// the formatted area (length bytes in all), then a string set of NUL-terminated strings ending
// with an extra NUL. Strings are referred to by number from 1; 0 means "no string".
//
// The input is untrusted: every offset is bounds-checked. A corrupt table stops the parse; the
// structures before the corruption are kept and the corruption is described as
// "corrupt at byte N: ...".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace muster::agent::inventory {

struct smbios_structure {
    std::uint8_t type = 0;
    std::uint16_t handle = 0;
    std::string formatted;             // the whole formatted area, header included
    std::vector<std::string> strings;  // strings[0] is string number 1

    // Fields at an offset of the formatted area; nullopt when the structure is too short to
    // have them (older spec versions have shorter structures).
    std::optional<std::uint8_t> byte_at(std::size_t offset) const;
    std::optional<std::uint16_t> word_at(std::size_t offset) const;
    std::optional<std::uint32_t> dword_at(std::size_t offset) const;
    // The string whose number is stored at offset; nullopt for 0, a bad number or no field.
    std::optional<std::string> string_at(std::size_t offset) const;
};

struct smbios_table {
    std::vector<smbios_structure> structures;
    std::optional<std::string> corruption;  // "corrupt at byte N: ..." when the parse stopped

    // The structures of one type, in table order.
    std::vector<const smbios_structure*> of_type(std::uint8_t type) const;
};

smbios_table parse_smbios(std::string_view data);

// Type 17, Memory Device, decoded. Identity and descriptive text are not filtered here.
struct smbios_memory_device {
    std::optional<std::string> slot;
    std::optional<std::uint64_t> size_bytes;
    std::optional<std::string> type;
    std::optional<std::uint64_t> speed_mts;
    std::optional<std::string> manufacturer;
    std::optional<std::string> serial;
    std::optional<std::string> part_number;
};

// nullopt for an empty slot (size 0, "no device installed").
std::optional<smbios_memory_device> decode_memory_device(const smbios_structure& s);

// Text of the Memory Type byte (7.18.2) and of the chassis type (7.4.1, lock bit ignored);
// nullopt for "Unknown", reserved and out-of-range values.
std::optional<std::string> memory_type_name(std::uint8_t code);
std::optional<std::string> chassis_type_name(std::uint8_t code);

// The system UUID of a type 1 structure (offset 8, 16 bytes) as lower-case text, with the
// first three fields little-endian as the specification requires since version 2.6.
std::optional<std::string> system_uuid(const smbios_structure& type1);

}  // namespace muster::agent::inventory
