// Section "listening_ports": TCP sockets in LISTEN state and bound, unconnected UDP sockets,
// from /proc/net/{tcp,tcp6,udp,udp6}.
//
// Fields: protocol ("tcp"/"udp"; the address says whether it is IPv4 or IPv6), address,
// port, pid and process (comm) of a process holding the socket. Owners are found by one pass
// over /proc/<pid>/fd/*, matching "socket:[inode]" links against the listeners' inodes; that
// pass is the expensive part of the whole inventory, so it runs only when there are
// listeners and stops as soon as every listener has an owner. Processes whose fds cannot be
// read (other users' processes when not root; in a container even root may be denied the
// fds of processes it did not start) leave pid and process null; one errors entry says so
// when that left some listener without an owner.
#include "agent/inventory/collectors.h"
#include "agent/inventory/network_addresses.h"
#include "agent/inventory/read.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <tuple>
#include <vector>

namespace muster::agent::inventory {

namespace {

constexpr std::string_view section = "listening_ports";
constexpr std::string_view tcp_listen = "0A";
constexpr std::string_view udp_unconnected = "07";

struct listener {
    std::string protocol;
    std::string family;
    std::string address;
    unsigned port = 0;
    std::uint64_t inode = 0;
    std::optional<std::uint64_t> pid;
    std::optional<std::string> process;
};

struct socket_table {
    std::string_view path;
    std::string_view protocol;
    std::string_view family;
    std::string_view wanted_state;
};

constexpr std::array<socket_table, 4> tables = {{
    {"/proc/net/tcp", "tcp", "inet", tcp_listen},
    {"/proc/net/tcp6", "tcp", "inet6", tcp_listen},
    {"/proc/net/udp", "udp", "inet", udp_unconnected},
    {"/proc/net/udp6", "udp", "inet6", udp_unconnected},
}};

std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> fields;
    while (true) {
        auto start = line.find_first_not_of(' ');
        if (start == std::string_view::npos) break;
        line.remove_prefix(start);
        auto end = line.find(' ');
        fields.push_back(line.substr(0, end));
        if (end == std::string_view::npos) break;
        line.remove_prefix(end);
    }
    return fields;
}

// "0100007F:1F90" -> address and port.
std::optional<std::pair<std::string, unsigned>> endpoint(std::string_view field) {
    auto colon = field.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto address = address_from_host_order_hex(field.substr(0, colon));
    auto port = parse_hex_u32(field.substr(colon + 1));
    if (!address || !port || *port > 65535) return std::nullopt;
    return std::pair{std::move(*address), *port};
}

bool remote_is_unset(std::string_view field) {
    auto remote = endpoint(field);
    return remote && remote->second == 0 && (remote->first == "0.0.0.0" || remote->first == "::");
}

// sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
// Returns false when the line is not a socket line at all.
bool parse_socket_line(std::string_view line, const socket_table& table,
                       std::vector<listener>& out) {
    auto f = split_fields(line);
    if (f.size() < 10 || f[0].empty() || f[0].back() != ':') return false;
    auto local = endpoint(f[1]);
    auto inode = parse_u64(f[9]);
    if (!local || !inode || f[3].size() != 2) return false;
    if (f[3] != table.wanted_state) return true;
    if (table.protocol == "udp" && !remote_is_unset(f[2])) return true;
    out.push_back({std::string(table.protocol),
                   std::string(table.family),
                   local->first,
                   local->second,
                   *inode,
                   {},
                   {}});
    return true;
}

void read_table(const context& ctx, error_list& errors, const socket_table& table,
                std::vector<listener>& out) {
    // Streamed, not read whole: on a busy server the table lists every connection, tens of
    // thousands in TIME_WAIT, megabytes of them, and only the listeners are kept. (Read whole
    // with the 1 MiB cap of read_optional, such a table was dropped without a word.)
    errno = 0;
    std::ifstream in(ctx.path(table.path));
    if (!in) {
        // Absent is normal (no IPv6 in the kernel, or a fixture without it).
        int error = errno;
        if (error != ENOENT) {
            errors.add(section, table.path, error != 0 ? std::strerror(error) : "cannot open");
        }
        return;
    }
    std::string line;
    std::size_t line_number = 0;
    while (std::getline(in, line)) {
        if (++line_number == 1 || line.find_first_not_of(' ') == std::string::npos)
            continue;  // header
        if (!parse_socket_line(line, table, out)) {
            errors.add(section, table.path, "corrupt at line " + std::to_string(line_number));
            return;
        }
    }
    // The lines read still count; the reader learns the rest is missing.
    if (in.bad())
        errors.add(section, table.path, "read error after line " + std::to_string(line_number));
}

// ---------------------------------------------------------------- owners

struct owner {
    std::uint64_t pid;
    std::string process;
};

struct dir_closer {
    void operator()(DIR* dir) const noexcept { ::closedir(dir); }
};
using dir_handle = std::unique_ptr<DIR, dir_closer>;

// Opens a directory relative to an open directory (or an absolute path with AT_FDCWD).
dir_handle open_dir(int parent, const char* path) {
    int fd = ::openat(parent, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return nullptr;
    dir_handle dir(::fdopendir(fd));
    if (!dir) ::close(fd);
    return dir;
}

enum class link_result { socket, other, denied };

// Reads one /proc/<pid>/fd/<n> link; sets inode when it is "socket:[inode]".
link_result read_fd_link(int fd_dir, const char* name, std::uint64_t& inode) {
    std::array<char, 64> target{};
    auto length = ::readlinkat(fd_dir, name, target.data(), target.size() - 1);
    if (length < 0)
        return errno == EACCES || errno == EPERM ? link_result::denied : link_result::other;
    std::string_view text(target.data(), static_cast<std::size_t>(length));
    if (!text.starts_with("socket:[") || !text.ends_with("]")) return link_result::other;
    auto parsed = parse_u64(text.substr(8, text.size() - 9));
    if (!parsed) return link_result::other;
    inode = *parsed;
    return link_result::socket;
}

struct owner_scan {
    const std::set<std::uint64_t>& wanted;
    std::map<std::uint64_t, owner> owners;
    bool unreadable = false;  // some process's fds could not be read

    bool done() const { return owners.size() >= wanted.size(); }

    void scan_process(const context& ctx, int proc_dir, std::uint64_t pid) {
        auto fds = open_dir(proc_dir, (std::to_string(pid) + "/fd").c_str());
        if (!fds) {
            // A process that exited meanwhile is not a permission problem.
            if (errno != ENOENT) unreadable = true;
            return;
        }
        std::optional<std::string> comm;
        while (auto* entry = ::readdir(fds.get())) {
            if (entry->d_name[0] == '.') continue;
            std::uint64_t inode = 0;
            auto result = read_fd_link(::dirfd(fds.get()), entry->d_name, inode);
            if (result == link_result::denied) {
                unreadable = true;  // every other fd of this process is denied as well
                return;
            }
            if (result != link_result::socket || !wanted.contains(inode) || owners.contains(inode))
                continue;
            if (!comm)
                comm = read_optional(ctx, "/proc/" + std::to_string(pid) + "/comm").value_or("");
            owners[inode] = owner{pid, *comm};
        }
    }
};

// One pass over /proc/<pid>/fd, stopping once every wanted inode has an owner. POSIX
// directory calls rather than std::filesystem: this loop touches every fd of the machine.
owner_scan find_owners(const context& ctx, const std::set<std::uint64_t>& wanted) {
    owner_scan scan{wanted, {}, false};
    auto proc = open_dir(AT_FDCWD, ctx.path("/proc").c_str());
    if (!proc) return scan;
    while (auto* entry = ::readdir(proc.get())) {
        auto pid = parse_u64(entry->d_name);
        if (!pid) continue;
        scan.scan_process(ctx, ::dirfd(proc.get()), *pid);
        if (scan.done()) break;
    }
    return scan;
}

void attach_owners(const context& ctx, error_list& errors, std::vector<listener>& listeners) {
    std::set<std::uint64_t> wanted;
    // Inode 0 means the socket is gone or not visible in this namespace: nothing to match.
    for (const auto& l : listeners)
        if (l.inode != 0) wanted.insert(l.inode);
    if (wanted.empty()) return;
    auto scan = find_owners(ctx, wanted);
    bool some_unowned = false;
    for (auto& l : listeners) {
        auto found = scan.owners.find(l.inode);
        if (found == scan.owners.end()) {
            some_unowned = true;
            continue;
        }
        l.pid = found->second.pid;
        if (!found->second.process.empty()) l.process = found->second.process;
    }
    if (some_unowned && scan.unreadable)
        errors.add(section, "/proc/*/fd",
                   "Permission denied for some processes' fds: process owners need root");
}

boost::json::object to_json(const listener& l) {
    return {{"protocol", l.protocol},     {"family", l.family},
            {"address", l.address},       {"port", l.port},
            {"pid", json_or_null(l.pid)}, {"process", json_or_null(l.process)}};
}

}  // namespace

boost::json::value collect_listening_ports(const context& ctx, error_list& errors) {
    std::vector<listener> listeners;
    for (const auto& table : tables) read_table(ctx, errors, table, listeners);
    attach_owners(ctx, errors, listeners);
    auto key = [](const listener& l) {
        return std::tie(l.protocol, l.port, l.address, l.pid, l.process);
    };
    std::sort(listeners.begin(), listeners.end(),
              [&](const listener& a, const listener& b) { return key(a) < key(b); });
    // SO_REUSEPORT groups show the same endpoint once per socket; one entry per owner is
    // what a reader wants.
    listeners.erase(
        std::unique(listeners.begin(), listeners.end(),
                    [&](const listener& a, const listener& b) { return key(a) == key(b); }),
        listeners.end());
    boost::json::array out;
    for (const auto& l : listeners) out.emplace_back(to_json(l));
    return out;
}

}  // namespace muster::agent::inventory
