// Section "filesystems": mounted filesystems from /proc/self/mountinfo (fallback
// /proc/mounts when mountinfo is unreadable).
//
// Fields: mountpoint, device (the mount source), type, total_bytes, free_bytes, read_only.
// Sizes come from statvfs, so only when reading the live system, and never for network
// filesystems (a dead NFS server would hang the inventory); free_bytes is the space
// available to unprivileged users, as df's "Avail".
//
// The filter (the one place it is defined): a mount is left out when
//   - its type is a kernel pseudo filesystem (pseudo_types below), or
//   - its mountpoint is /proc, /sys or below (kernel interfaces, e.g. lxcfs in containers), or
//   - it is a tmpfs at /dev, /run or below (runtime state, not storage), or
//   - it is a squashfs at /snap/... (snap packages, reported under "software").
// Everything else stays, including a tmpfs mounted elsewhere (/tmp, or a sandbox's
// read-only tmpfs under /mnt), an overlay root and bind mounts.
#include "agent/inventory/collectors.h"
#include "agent/inventory/read.h"

#include <sys/statvfs.h>

#include <array>
#include <vector>

namespace muster::agent::inventory {

namespace {

constexpr std::string_view section = "filesystems";

constexpr std::array<std::string_view, 22> pseudo_types = {
    "proc",       "sysfs",   "cgroup",    "cgroup2",    "devpts",      "devtmpfs",
    "mqueue",     "debugfs", "tracefs",   "securityfs", "pstore",      "bpf",
    "configfs",   "fusectl", "hugetlbfs", "autofs",     "binfmt_misc", "efivarfs",
    "rpc_pipefs", "nsfs",    "selinuxfs", "ramfs"};

constexpr std::array<std::string_view, 6> network_types = {"nfs",  "nfs4", "cifs",
                                                           "smb3", "9p",   "fuse.sshfs"};

bool at_or_under(std::string_view mountpoint, std::string_view dir) {
    return mountpoint == dir || (mountpoint.starts_with(dir) && mountpoint.size() > dir.size() &&
                                 mountpoint[dir.size()] == '/');
}

bool is_one_of(std::string_view value, auto const& list) {
    for (auto item : list)
        if (value == item) return true;
    return false;
}

bool left_out(std::string_view type, std::string_view mountpoint) {
    if (is_one_of(type, pseudo_types)) return true;
    if (at_or_under(mountpoint, "/proc") || at_or_under(mountpoint, "/sys")) return true;
    if (type == "tmpfs" && (at_or_under(mountpoint, "/dev") || at_or_under(mountpoint, "/run")))
        return true;
    return type == "squashfs" && mountpoint.starts_with("/snap/");
}

// The kernel escapes space, tab, newline and backslash in mount fields as \ooo.
std::string decode_octal_escapes(std::string_view field) {
    std::string out;
    out.reserve(field.size());
    for (std::size_t i = 0; i < field.size(); ++i) {
        auto is_octal = [&](std::size_t j) { return field[j] >= '0' && field[j] <= '7'; };
        if (field[i] == '\\' && i + 3 < field.size() && is_octal(i + 1) && is_octal(i + 2) &&
            is_octal(i + 3)) {
            out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                                     (field[i + 3] - '0'));
            i += 3;
        } else {
            out += field[i];
        }
    }
    return out;
}

std::vector<std::string_view> split_spaces(std::string_view line) {
    std::vector<std::string_view> fields;
    while (!line.empty()) {
        auto start = line.find_first_not_of(' ');
        if (start == std::string_view::npos) break;
        line.remove_prefix(start);
        auto end = line.find(' ');
        fields.push_back(line.substr(0, end));
        line.remove_prefix(end == std::string_view::npos ? line.size() : end);
    }
    return fields;
}

bool has_option(std::string_view options, std::string_view wanted) {
    while (!options.empty()) {
        auto comma = options.find(',');
        if (options.substr(0, comma) == wanted) return true;
        options.remove_prefix(comma == std::string_view::npos ? options.size() : comma + 1);
    }
    return false;
}

struct mount_entry {
    std::string mountpoint;
    std::string device;
    std::string type;
    bool read_only = false;
};

// mountinfo: id parent major:minor root mountpoint options [optional...] - type source super
std::optional<mount_entry> parse_mountinfo_line(std::string_view line) {
    auto f = split_spaces(line);
    std::size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (f.size() < 6 || dash + 2 >= f.size()) return std::nullopt;
    std::string_view super_options = dash + 3 < f.size() ? f[dash + 3] : "";
    return mount_entry{decode_octal_escapes(f[4]), decode_octal_escapes(f[dash + 2]),
                       decode_octal_escapes(f[dash + 1]),
                       has_option(f[5], "ro") || has_option(super_options, "ro")};
}

// /proc/mounts: source mountpoint type options dump pass
std::optional<mount_entry> parse_mounts_line(std::string_view line) {
    auto f = split_spaces(line);
    if (f.size() < 4) return std::nullopt;
    return mount_entry{decode_octal_escapes(f[1]), decode_octal_escapes(f[0]),
                       decode_octal_escapes(f[2]), has_option(f[3], "ro")};
}

struct mount_table {
    std::string path;
    std::string content;
    bool is_mountinfo = true;
};

std::optional<mount_table> read_mount_table(const context& ctx, error_list& errors) {
    error_list ignored;
    if (auto info = read_required(ctx, ignored, section, "/proc/self/mountinfo", 16 << 20))
        return mount_table{"/proc/self/mountinfo", std::move(*info), true};
    if (auto mounts = read_required(ctx, errors, section, "/proc/mounts", 16 << 20))
        return mount_table{"/proc/mounts", std::move(*mounts), false};
    return std::nullopt;
}

void add_sizes(const context& ctx, const mount_entry& m, boost::json::object& out) {
    out["total_bytes"] = nullptr;
    out["free_bytes"] = nullptr;
    if (!ctx.live() || is_one_of(m.type, network_types) || m.type.starts_with("fuse.sshfs")) return;
    struct statvfs s {};
    if (::statvfs(m.mountpoint.c_str(), &s) != 0) return;
    out["total_bytes"] = static_cast<std::uint64_t>(s.f_blocks) * s.f_frsize;
    out["free_bytes"] = static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize;
}

boost::json::object describe(const context& ctx, const mount_entry& m) {
    boost::json::object out{
        {"mountpoint", m.mountpoint},
        {"device", m.device.empty() ? boost::json::value(nullptr) : boost::json::value(m.device)},
        {"type", m.type}};
    add_sizes(ctx, m, out);
    out["read_only"] = m.read_only;
    return out;
}

}  // namespace

boost::json::value collect_filesystems(const context& ctx, error_list& errors) {
    boost::json::array filesystems;
    auto table = read_mount_table(ctx, errors);
    if (!table) return filesystems;

    std::string_view rest = table->content;
    std::size_t line_number = 0;
    std::optional<std::size_t> first_bad_line;
    while (!rest.empty()) {
        auto newline = rest.find('\n');
        auto line = rest.substr(0, newline);
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        ++line_number;
        if (line.empty()) continue;
        auto m = table->is_mountinfo ? parse_mountinfo_line(line) : parse_mounts_line(line);
        if (!m) {
            if (!first_bad_line) first_bad_line = line_number;
            continue;
        }
        if (!left_out(m->type, m->mountpoint)) filesystems.emplace_back(describe(ctx, *m));
    }
    if (first_bad_line)
        errors.add(section, table->path,
                   "corrupt at line " + std::to_string(*first_bad_line) + ": too few fields");
    return filesystems;
}

}  // namespace muster::agent::inventory
