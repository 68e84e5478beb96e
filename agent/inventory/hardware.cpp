// Section "hardware": what the firmware says about the machine (DMI/SMBIOS).
//
// Sources, in order: the kernel's decoded DMI attributes (/sys/class/dmi/id), then the raw
// SMBIOS table (/sys/firmware/dmi/tables/DMI) for the memory devices and for any identity
// field sysfs does not provide. The serial numbers, the UUID and the raw table are readable by
// root only: an unprivileged agent reports each denial in errors and null for the field.
// Filler text ("To Be Filled By O.E.M.") is null (common/placeholder.h). Inside a container,
// the identity fields are null: they belong to the host.
#include "agent/inventory/collectors.h"
#include "agent/inventory/environment.h"
#include "agent/inventory/read.h"
#include "agent/inventory/smbios.h"
#include "common/file.h"
#include "common/placeholder.h"

#include <filesystem>

namespace muster::agent::inventory {

namespace {

constexpr std::string_view section = "hardware";
constexpr std::string_view dmi_dir = "/sys/class/dmi/id";
constexpr std::string_view smbios_path = "/sys/firmware/dmi/tables/DMI";

using text = std::optional<std::string>;

// What the firmware reports, before placeholders and the container rule are applied.
struct firmware_facts {
    text vendor, product, version, serial, product_uuid;
    text board_vendor, board_product, board_serial;
    text chassis_type, chassis_serial, asset_tag;
    text bios_vendor, bios_version, bios_date;
};

text dmi_attribute(const context& ctx, error_list& errors, std::string_view name) {
    return read_attribute(ctx, errors, section, std::string(dmi_dir) + "/" + std::string(name));
}

text chassis_type_from_sysfs(const text& number) {
    if (!number) return std::nullopt;
    auto code = parse_u64(*number);
    if (!code || *code > 0xFF) return std::nullopt;
    return chassis_type_name(static_cast<std::uint8_t>(*code));
}

firmware_facts read_sysfs(const context& ctx, error_list& errors) {
    auto a = [&](std::string_view name) { return dmi_attribute(ctx, errors, name); };
    firmware_facts f;
    f.vendor = a("sys_vendor");
    f.product = a("product_name");
    f.version = a("product_version");
    f.serial = a("product_serial");
    f.product_uuid = a("product_uuid");
    f.board_vendor = a("board_vendor");
    f.board_product = a("board_name");
    f.board_serial = a("board_serial");
    f.chassis_type = chassis_type_from_sysfs(a("chassis_type"));
    f.chassis_serial = a("chassis_serial");
    f.asset_tag = a("chassis_asset_tag");
    f.bios_vendor = a("bios_vendor");
    f.bios_version = a("bios_version");
    f.bios_date = a("bios_date");
    return f;
}

void fill_if_missing(text& field, const text& value) {
    if (!field && value) field = value;
}

// Fills what sysfs did not give from SMBIOS types 0 (BIOS), 1 (system), 2 (board), 3 (chassis).
void fill_from_smbios(firmware_facts& f, const smbios_table& table) {
    for (const auto* s : table.of_type(0)) {
        fill_if_missing(f.bios_vendor, s->string_at(0x04));
        fill_if_missing(f.bios_version, s->string_at(0x05));
        fill_if_missing(f.bios_date, s->string_at(0x08));
    }
    for (const auto* s : table.of_type(1)) {
        fill_if_missing(f.vendor, s->string_at(0x04));
        fill_if_missing(f.product, s->string_at(0x05));
        fill_if_missing(f.version, s->string_at(0x06));
        fill_if_missing(f.serial, s->string_at(0x07));
        fill_if_missing(f.product_uuid, system_uuid(*s));
    }
    for (const auto* s : table.of_type(2)) {
        fill_if_missing(f.board_vendor, s->string_at(0x04));
        fill_if_missing(f.board_product, s->string_at(0x05));
        fill_if_missing(f.board_serial, s->string_at(0x07));
    }
    for (const auto* s : table.of_type(3)) {
        if (auto code = s->byte_at(0x05)) fill_if_missing(f.chassis_type, chassis_type_name(*code));
        fill_if_missing(f.chassis_serial, s->string_at(0x07));
        fill_if_missing(f.asset_tag, s->string_at(0x08));
    }
}

boost::json::value descriptive(const text& value) {
    return value ? json_or_null(descriptive_value(*value)) : boost::json::value(nullptr);
}

// An identity field: null for placeholders, and always null inside a container.
boost::json::value identity(const text& value, bool in_container) {
    if (in_container || !value) return nullptr;
    return json_or_null(identity_value(*value));
}

boost::json::array memory_devices_json(const smbios_table& table, bool in_container) {
    boost::json::array devices;
    for (const auto* s : table.of_type(17)) {
        auto device = decode_memory_device(*s);
        if (!device) continue;  // empty slot
        devices.push_back({
            {"slot", descriptive(device->slot)},
            {"size_bytes", json_or_null(device->size_bytes)},
            {"type", json_or_null(device->type)},
            {"speed_mts", json_or_null(device->speed_mts)},
            {"manufacturer", descriptive(device->manufacturer)},
            {"serial", identity(device->serial, in_container)},
            {"part_number", descriptive(device->part_number)},
        });
    }
    return devices;
}

boost::json::object to_json(const firmware_facts& f, bool in_container) {
    return {
        {"vendor", descriptive(f.vendor)},
        {"product", descriptive(f.product)},
        {"version", descriptive(f.version)},
        {"serial", identity(f.serial, in_container)},
        {"product_uuid", identity(f.product_uuid, in_container)},
        {"board",
         {{"vendor", descriptive(f.board_vendor)},
          {"product", descriptive(f.board_product)},
          {"serial", identity(f.board_serial, in_container)}}},
        {"chassis",
         {{"type", json_or_null(f.chassis_type)},
          {"serial", identity(f.chassis_serial, in_container)},
          {"asset_tag", identity(f.asset_tag, in_container)}}},
        {"bios",
         {{"vendor", descriptive(f.bios_vendor)},
          {"version", descriptive(f.bios_version)},
          {"date", descriptive(f.bios_date)}}},
    };
}

bool exists_under_root(const context& ctx, std::string_view absolute) {
    std::error_code ec;
    return std::filesystem::exists(ctx.path(absolute), ec);
}

// The raw table, or nullopt. Absence is silent (many VMs have none); a denial or a read error
// is reported, and so is corruption (the structures before it are still used).
std::optional<smbios_table> read_smbios(const context& ctx, error_list& errors) {
    auto content = read_file(ctx.path(smbios_path), 4 << 20);
    if (!content) {
        if (content.error() != std::errc::no_such_file_or_directory)
            errors.add(section, smbios_path, content.error().message());
        return std::nullopt;
    }
    auto table = parse_smbios(*content);
    if (table.corruption) errors.add(section, smbios_path, *table.corruption);
    return table;
}

}  // namespace

boost::json::value collect_hardware(const context& ctx, error_list& errors) {
    bool has_sysfs = exists_under_root(ctx, dmi_dir);
    auto facts = has_sysfs ? read_sysfs(ctx, errors) : firmware_facts{};
    auto table = read_smbios(ctx, errors);
    if (!has_sysfs && !table && !exists_under_root(ctx, smbios_path))
        errors.add(section, dmi_dir, "absent");
    if (table) fill_from_smbios(facts, *table);

    bool in_container = detect_container(ctx) != "none";
    auto document = to_json(facts, in_container);
    document["memory_devices"] =
        table ? boost::json::value(memory_devices_json(*table, in_container)) : nullptr;
    return document;
}

}  // namespace muster::agent::inventory
