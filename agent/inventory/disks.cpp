// Section "disks": block devices of /sys/block and their partitions.
//
// Fields: name, model, serial, wwn, size_bytes, rotational, removable, type. The type is
// "disk", "part", "lvm" (dm-* whose dm/uuid starts LVM-), "crypt" (dm uuid CRYPT-), "dm"
// (other device-mapper), "raid" (md*), "rom" (sr*). Loop, ram and zram devices are left
// out: they are not storage hardware. Partitions take rotational and removable from their
// disk. In a container /sys/block may show the host's disks; what is visible is reported.
#include "agent/inventory/collectors.h"
#include "agent/inventory/read.h"

#include "common/file.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace muster::agent::inventory {

namespace {

constexpr std::string_view section = "disks";
constexpr std::string_view sys_block = "/sys/block";

bool left_out(std::string_view name) {
    return name.starts_with("loop") || name.starts_with("ram") || name.starts_with("zram");
}

std::string disk_type(const context& ctx, const std::string& name) {
    if (name.starts_with("sr")) return "rom";
    if (name.starts_with("md")) return "raid";
    if (name.starts_with("dm-")) {
        auto uuid = read_optional(ctx, std::string(sys_block) + "/" + name + "/dm/uuid");
        if (uuid && uuid->starts_with("LVM-")) return "lvm";
        if (uuid && uuid->starts_with("CRYPT-")) return "crypt";
        return "dm";
    }
    return "disk";
}

// Unit serial number page (SCSI VPD page 0x80): 4-byte header whose bytes 2-3 are the
// big-endian length of the serial that follows. Only printable ASCII is accepted.
std::optional<std::string> serial_from_vpd_pg80(const context& ctx, const std::string& dir) {
    auto page = read_file(ctx.path(dir + "/device/vpd_pg80"), 4096);
    if (!page || page->size() < 4 || static_cast<unsigned char>((*page)[1]) != 0x80)
        return std::nullopt;
    std::size_t length =
        (static_cast<unsigned char>((*page)[2]) << 8) | static_cast<unsigned char>((*page)[3]);
    length = std::min(length, page->size() - 4);
    std::string_view serial = trim(std::string_view(*page).substr(4, length));
    if (serial.empty()) return std::nullopt;
    for (char c : serial)
        if (c < 0x20 || c > 0x7e) return std::nullopt;
    return std::string(serial);
}

std::optional<std::string> disk_serial(const context& ctx, error_list& errors,
                                       const std::string& dir) {
    // device/serial: NVMe controllers, some USB; <dev>/serial: virtio.
    if (auto s = read_attribute(ctx, errors, section, dir + "/device/serial")) return s;
    if (auto s = read_attribute(ctx, errors, section, dir + "/serial")) return s;
    return serial_from_vpd_pg80(ctx, dir);
}

std::optional<std::string> disk_wwn(const context& ctx, const std::string& dir) {
    if (auto w = read_optional(ctx, dir + "/device/wwid")) return w;
    return read_optional(ctx, dir + "/wwid");
}

boost::json::value size_bytes(const context& ctx, const std::string& dir) {
    // The size attribute counts 512-byte sectors whatever the logical block size.
    auto sectors = parse_u64(read_optional(ctx, dir + "/size").value_or(""));
    if (!sectors || *sectors > (UINT64_MAX / 512)) return nullptr;
    return *sectors * 512;
}

boost::json::value flag(const context& ctx, const std::string& path) {
    auto value = read_optional(ctx, path);
    if (value == "1") return true;
    if (value == "0") return false;
    return nullptr;
}

boost::json::object describe_disk(const context& ctx, error_list& errors, const std::string& name) {
    std::string dir = std::string(sys_block) + "/" + name;
    return {{"name", name},
            {"model", json_or_null(read_optional(ctx, dir + "/device/model"))},
            {"serial", json_or_null(disk_serial(ctx, errors, dir))},
            {"wwn", json_or_null(disk_wwn(ctx, dir))},
            {"size_bytes", size_bytes(ctx, dir)},
            {"rotational", flag(ctx, dir + "/queue/rotational")},
            {"removable", flag(ctx, dir + "/removable")},
            {"type", disk_type(ctx, name)}};
}

// Partitions are the subdirectories <dev>/<dev>N that carry a "partition" attribute.
std::vector<std::string> partitions_of(const context& ctx, const std::string& name) {
    std::vector<std::string> parts;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(ctx.path(std::string(sys_block) + "/" + name), ec),
         end;
         !ec && it != end; it.increment(ec)) {
        auto child = it->path().filename().string();
        if (child.starts_with(name) && std::filesystem::exists(it->path() / "partition", ec))
            parts.push_back(child);
    }
    std::sort(parts.begin(), parts.end());
    return parts;
}

boost::json::object describe_partition(const context& ctx, const boost::json::object& disk,
                                       const std::string& name) {
    std::string dir =
        std::string(sys_block) + "/" + disk.at("name").as_string().c_str() + "/" + name;
    return {{"name", name},
            {"model", nullptr},
            {"serial", nullptr},
            {"wwn", nullptr},
            {"size_bytes", size_bytes(ctx, dir)},
            {"rotational", disk.at("rotational")},
            {"removable", disk.at("removable")},
            {"type", "part"}};
}

std::vector<std::string> block_devices(const context& ctx, error_list& errors) {
    std::vector<std::string> names;
    std::error_code ec;
    std::filesystem::directory_iterator it(ctx.path(sys_block), ec), end;
    if (ec) {
        errors.add(section, sys_block,
                   ec == std::errc::no_such_file_or_directory ? "absent" : ec.message());
        return names;
    }
    for (; !ec && it != end; it.increment(ec)) {
        auto name = it->path().filename().string();
        if (!left_out(name)) names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

boost::json::value collect_disks(const context& ctx, error_list& errors) {
    boost::json::array disks;
    for (const auto& name : block_devices(ctx, errors)) {
        auto disk = describe_disk(ctx, errors, name);
        auto parts = partitions_of(ctx, name);
        disks.emplace_back(disk);
        for (const auto& part : parts) disks.emplace_back(describe_partition(ctx, disk, part));
    }
    return disks;
}

}  // namespace muster::agent::inventory
