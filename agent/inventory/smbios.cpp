#include "agent/inventory/smbios.h"

#include <array>
#include <cstdio>

namespace muster::agent::inventory {

namespace {

constexpr std::uint8_t end_of_table = 127;
constexpr std::size_t header_size = 4;

std::string corrupt_at(std::size_t offset, std::string_view what) {
    return "corrupt at byte " + std::to_string(offset) + ": " + std::string(what);
}

std::uint8_t u8(std::string_view data, std::size_t at) {
    return static_cast<std::uint8_t>(data[at]);
}

// Reads the string set that starts at `at`; returns the offset after it, or nullopt (with
// `error` set) when the set is not properly terminated inside the data.
std::optional<std::size_t> read_string_set(std::string_view data, std::size_t at,
                                           std::vector<std::string>& strings, std::string& error) {
    if (at + 1 < data.size() && data[at] == '\0' && data[at + 1] == '\0') return at + 2;
    std::size_t position = at;
    for (;;) {
        auto nul = data.find('\0', position);
        if (nul == std::string_view::npos) {
            error = corrupt_at(position, "unterminated string set");
            return std::nullopt;
        }
        if (nul == position) {
            error = corrupt_at(position, "empty string in string set");
            return std::nullopt;
        }
        strings.emplace_back(data.substr(position, nul - position));
        position = nul + 1;
        if (position >= data.size()) {
            error = corrupt_at(position, "string set without its final NUL");
            return std::nullopt;
        }
        if (data[position] == '\0') return position + 1;
    }
}

}  // namespace

std::optional<std::uint8_t> smbios_structure::byte_at(std::size_t offset) const {
    if (offset + 1 > formatted.size()) return std::nullopt;
    return static_cast<std::uint8_t>(formatted[offset]);
}

std::optional<std::uint16_t> smbios_structure::word_at(std::size_t offset) const {
    if (offset + 2 > formatted.size()) return std::nullopt;
    return static_cast<std::uint16_t>(u8(formatted, offset) | (u8(formatted, offset + 1) << 8));
}

std::optional<std::uint32_t> smbios_structure::dword_at(std::size_t offset) const {
    if (offset + 4 > formatted.size()) return std::nullopt;
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < 4; ++i)
        value |= static_cast<std::uint32_t>(u8(formatted, offset + i)) << (8 * i);
    return value;
}

std::optional<std::string> smbios_structure::string_at(std::size_t offset) const {
    auto number = byte_at(offset);
    if (!number || *number == 0 || *number > strings.size()) return std::nullopt;
    return strings[*number - 1];
}

std::vector<const smbios_structure*> smbios_table::of_type(std::uint8_t type) const {
    std::vector<const smbios_structure*> found;
    for (const auto& s : structures)
        if (s.type == type) found.push_back(&s);
    return found;
}

smbios_table parse_smbios(std::string_view data) {
    smbios_table table;
    std::size_t position = 0;
    while (position < data.size()) {
        if (data.size() - position < header_size) {
            table.corruption = corrupt_at(position, "truncated structure header");
            break;
        }
        std::size_t length = u8(data, position + 1);
        if (length < header_size) {
            table.corruption =
                corrupt_at(position + 1, "structure length " + std::to_string(length) + " below 4");
            break;
        }
        if (length > data.size() - position) {
            table.corruption =
                corrupt_at(position, "structure of length " + std::to_string(length) +
                                         " runs past the end of the table");
            break;
        }
        smbios_structure s;
        s.type = u8(data, position);
        s.handle =
            static_cast<std::uint16_t>(u8(data, position + 2) | (u8(data, position + 3) << 8));
        s.formatted.assign(data.substr(position, length));
        std::string error;
        auto next = read_string_set(data, position + length, s.strings, error);
        if (!next) {
            table.corruption = std::move(error);
            break;
        }
        bool last = s.type == end_of_table;
        table.structures.push_back(std::move(s));
        if (last) break;
        position = *next;
    }
    return table;
}

// ---- type 17, Memory Device (7.18) ---------------------------------------------------------

namespace {

// Offsets inside a type 17 structure.
constexpr std::size_t md_size = 0x0C;
constexpr std::size_t md_device_locator = 0x10;
constexpr std::size_t md_bank_locator = 0x11;
constexpr std::size_t md_memory_type = 0x12;
constexpr std::size_t md_speed = 0x15;
constexpr std::size_t md_manufacturer = 0x17;
constexpr std::size_t md_serial = 0x18;
constexpr std::size_t md_part_number = 0x1A;
constexpr std::size_t md_extended_size = 0x1C;
constexpr std::size_t md_extended_speed = 0x54;

constexpr std::uint64_t kib = 1024;
constexpr std::uint64_t mib = 1024 * 1024;

// Size field: 0 empty slot, 0xFFFF unknown, 0x7FFF "see Extended Size" (MiB in bits 30:0),
// otherwise bit 15 selects KiB (set) or MiB (clear) units for bits 14:0.
std::optional<std::uint64_t> device_size(const smbios_structure& s, std::uint16_t size) {
    if (size == 0xFFFF) return std::nullopt;
    if (size == 0x7FFF) {
        auto extended = s.dword_at(md_extended_size);
        if (!extended) return std::nullopt;
        return static_cast<std::uint64_t>(*extended & 0x7FFFFFFFu) * mib;
    }
    if (size & 0x8000) return static_cast<std::uint64_t>(size & 0x7FFF) * kib;
    return static_cast<std::uint64_t>(size) * mib;
}

// Speed in MT/s: 0 unknown, 0xFFFF "see Extended Speed" (SMBIOS 3.3, bits 30:0).
std::optional<std::uint64_t> device_speed(const smbios_structure& s) {
    auto speed = s.word_at(md_speed);
    if (!speed || *speed == 0) return std::nullopt;
    if (*speed != 0xFFFF) return *speed;
    auto extended = s.dword_at(md_extended_speed);
    if (!extended || (*extended & 0x7FFFFFFFu) == 0) return std::nullopt;
    return *extended & 0x7FFFFFFFu;
}

}  // namespace

std::optional<smbios_memory_device> decode_memory_device(const smbios_structure& s) {
    auto size = s.word_at(md_size);
    if (size && *size == 0) return std::nullopt;
    smbios_memory_device device;
    device.slot = s.string_at(md_device_locator);
    if (!device.slot) device.slot = s.string_at(md_bank_locator);
    device.size_bytes = size ? device_size(s, *size) : std::nullopt;
    if (auto code = s.byte_at(md_memory_type)) device.type = memory_type_name(*code);
    device.speed_mts = device_speed(s);
    device.manufacturer = s.string_at(md_manufacturer);
    device.serial = s.string_at(md_serial);
    device.part_number = s.string_at(md_part_number);
    return device;
}

std::optional<std::string> memory_type_name(std::uint8_t code) {
    static constexpr std::array<std::string_view, 0x25> names = {
        "",
        "Other",
        "",
        "DRAM",
        "EDRAM",
        "VRAM",
        "SRAM",
        "RAM",
        "ROM",
        "Flash",
        "EEPROM",
        "FEPROM",
        "EPROM",
        "CDRAM",
        "3DRAM",
        "SDRAM",
        "SGRAM",
        "RDRAM",
        "DDR",
        "DDR2",
        "DDR2 FB-DIMM",
        "",
        "",
        "",
        "DDR3",
        "FBD2",
        "DDR4",
        "LPDDR",
        "LPDDR2",
        "LPDDR3",
        "LPDDR4",
        "Logical non-volatile device",
        "HBM",
        "HBM2",
        "DDR5",
        "LPDDR5",
        "HBM3",
    };
    if (code >= names.size() || names[code].empty()) return std::nullopt;
    return std::string(names[code]);
}

std::optional<std::string> chassis_type_name(std::uint8_t code) {
    static constexpr std::array<std::string_view, 0x25> names = {
        "",
        "Other",
        "",  // Unknown
        "Desktop",
        "Low Profile Desktop",
        "Pizza Box",
        "Mini Tower",
        "Tower",
        "Portable",
        "Laptop",
        "Notebook",
        "Hand Held",
        "Docking Station",
        "All in One",
        "Sub Notebook",
        "Space-saving",
        "Lunch Box",
        "Main Server Chassis",
        "Expansion Chassis",
        "SubChassis",
        "Bus Expansion Chassis",
        "Peripheral Chassis",
        "RAID Chassis",
        "Rack Mount Chassis",
        "Sealed-case PC",
        "Multi-system chassis",
        "Compact PCI",
        "Advanced TCA",
        "Blade",
        "Blade Enclosure",
        "Tablet",
        "Convertible",
        "Detachable",
        "IoT Gateway",
        "Embedded PC",
        "Mini PC",
        "Stick PC",
    };
    code &= 0x7F;  // bit 7 is the chassis lock
    if (code >= names.size() || names[code].empty()) return std::nullopt;
    return std::string(names[code]);
}

std::optional<std::string> system_uuid(const smbios_structure& type1) {
    constexpr std::size_t uuid_offset = 0x08;
    if (type1.formatted.size() < uuid_offset + 16) return std::nullopt;
    std::array<std::uint8_t, 16> b{};
    for (std::size_t i = 0; i < 16; ++i) b[i] = u8(type1.formatted, uuid_offset + i);
    char text[37];
    std::snprintf(text, sizeof text,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[3],
                  b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13],
                  b[14], b[15]);
    return std::string(text);
}

}  // namespace muster::agent::inventory
