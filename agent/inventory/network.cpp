// Section "network": interfaces, default gateways and DNS servers.
//
// Interfaces come from /sys/class/net: name, mac, mtu, state (operstate), speed_mbps (null
// when the driver reports -1 or nothing), type (loopback, bridge, bond, vlan, physical when
// backed by a device, else virtual) and addresses.
//
// Addresses: on the live system they come from getifaddrs(), which asks the kernel over
// netlink exactly as `ip addr` does. Under a fixture root only IPv6 addresses can be read
// faithfully (from /proc/net/if_inet6, which names the interface and prefix of each one).
// IPv4 addresses have no such file: /proc/net/fib_trie lists local addresses without their
// interface, and guessing it from /proc/net/route breaks with overlapping subnets. So under
// a fixture root IPv4 addresses are left out, and one errors entry says they are only read
// live.
//
// Default gateways: /proc/net/route (0.0.0.0/0 with RTF_GATEWAY) and /proc/net/ipv6_route
// (::/0 with RTF_GATEWAY). DNS servers: the nameserver lines of /etc/resolv.conf; when it
// points at systemd-resolved's stub (127.0.0.53), the upstream servers of
// /run/systemd/resolve/resolv.conf are added after it.
#include "agent/inventory/collectors.h"
#include "agent/inventory/network_addresses.h"
#include "agent/inventory/read.h"

#include "common/file.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <filesystem>
#include <map>
#include <memory>
#include <system_error>
#include <vector>

namespace muster::agent::inventory {

namespace {

constexpr std::string_view section = "network";
constexpr unsigned rtf_gateway = 0x2;
constexpr std::string_view arphrd_loopback = "772";

std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> fields;
    while (true) {
        auto start = line.find_first_not_of(" \t");
        if (start == std::string_view::npos) break;
        line.remove_prefix(start);
        auto end = line.find_first_of(" \t");
        fields.push_back(line.substr(0, end));
        if (end == std::string_view::npos) break;
        line.remove_prefix(end);
    }
    return fields;
}

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        auto newline = text.find('\n');
        lines.push_back(text.substr(0, newline));
        text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    }
    return lines;
}

// ---------------------------------------------------------------- addresses

using address_map = std::map<std::string, boost::json::array>;

void add_address(address_map& out, std::string_view name, std::string_view family,
                 std::string address, unsigned prefix) {
    out[std::string(name)].push_back(
        boost::json::object{{"family", family}, {"address", address}, {"prefix", prefix}});
}

unsigned prefix_of_mask(const sockaddr* mask, int family) {
    if (!mask) return 0;
    const auto* bytes = family == AF_INET
                            ? reinterpret_cast<const unsigned char*>(
                                  &reinterpret_cast<const sockaddr_in*>(mask)->sin_addr)
                            : reinterpret_cast<const unsigned char*>(
                                  &reinterpret_cast<const sockaddr_in6*>(mask)->sin6_addr);
    std::size_t size = family == AF_INET ? 4 : 16;
    unsigned bits = 0;
    for (std::size_t i = 0; i < size; ++i) bits += std::popcount(bytes[i]);
    return bits;
}

struct ifaddrs_deleter {
    void operator()(ifaddrs* list) const noexcept { ::freeifaddrs(list); }
};

address_map live_addresses(error_list& errors) {
    address_map out;
    ifaddrs* raw = nullptr;
    if (::getifaddrs(&raw) != 0) {
        errors.add(section, "getifaddrs", std::generic_category().message(errno));
        return out;
    }
    std::unique_ptr<ifaddrs, ifaddrs_deleter> list(raw);
    for (auto* entry = list.get(); entry; entry = entry->ifa_next) {
        if (!entry->ifa_addr || !entry->ifa_name) continue;
        int family = entry->ifa_addr->sa_family;
        if (family != AF_INET && family != AF_INET6) continue;
        const void* address =
            family == AF_INET
                ? static_cast<const void*>(
                      &reinterpret_cast<const sockaddr_in*>(entry->ifa_addr)->sin_addr)
                : static_cast<const void*>(
                      &reinterpret_cast<const sockaddr_in6*>(entry->ifa_addr)->sin6_addr);
        char text[INET6_ADDRSTRLEN] = {};
        if (!::inet_ntop(family, address, text, sizeof text)) continue;
        // IPv4 entries carry the address label ("eth0:1"); ':' cannot occur in a real
        // interface name, so what precedes it is the interface.
        std::string_view name = entry->ifa_name;
        name = name.substr(0, name.find(':'));
        add_address(out, name, family == AF_INET ? "inet" : "inet6", text,
                    prefix_of_mask(entry->ifa_netmask, family));
    }
    return out;
}

// /proc/net/if_inet6: address ifindex prefix scope flags name (hex, network order).
address_map fixture_addresses(const context& ctx, error_list& errors) {
    address_map out;
    errors.add(section, "/proc/net/fib_trie",
               "IPv4 addresses are only read live (not under a fixture root)");
    auto content = read_optional(ctx, "/proc/net/if_inet6");
    if (!content) return out;
    auto lines = split_lines(*content);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        auto f = split_fields(lines[i]);
        auto address = f.size() >= 6 ? ipv6_from_network_order_hex(f[0]) : std::nullopt;
        auto prefix = f.size() >= 6 ? parse_hex_u32(f[2]) : std::nullopt;
        if (f.empty()) continue;
        if (!address || !prefix || *prefix > 128) {
            errors.add(section, "/proc/net/if_inet6", "corrupt at line " + std::to_string(i + 1));
            break;
        }
        add_address(out, f[5], "inet6", *address, *prefix);
    }
    return out;
}

// ---------------------------------------------------------------- interfaces

std::string interface_type(const context& ctx, const std::string& name) {
    std::string dir = "/sys/class/net/" + name;
    std::error_code ec;
    auto exists = [&](std::string_view absolute) {
        return std::filesystem::exists(ctx.path(absolute), ec);
    };
    if (read_optional(ctx, dir + "/type") == arphrd_loopback) return "loopback";
    if (exists(dir + "/bridge")) return "bridge";
    if (exists(dir + "/bonding")) return "bond";
    if (exists("/proc/net/vlan/" + name)) return "vlan";
    if (exists(dir + "/device")) return "physical";
    return "virtual";
}

boost::json::value speed_mbps(const context& ctx, const std::string& dir) {
    // Unreadable (EINVAL while the link is down) and -1 both mean unknown.
    auto speed = parse_u64(read_optional(ctx, dir + "/speed").value_or(""));
    if (!speed || *speed > 0xffffffffu) return nullptr;
    return *speed;
}

boost::json::object describe_interface(const context& ctx, const std::string& name,
                                       address_map& addresses) {
    std::string dir = "/sys/class/net/" + name;
    auto found = addresses.find(name);
    return {
        {"name", name},
        {"mac", json_or_null(read_optional(ctx, dir + "/address"))},
        {"mtu", json_or_null(parse_u64(read_optional(ctx, dir + "/mtu").value_or("")))},
        {"state", json_or_null(read_optional(ctx, dir + "/operstate"))},
        {"speed_mbps", speed_mbps(ctx, dir)},
        {"type", interface_type(ctx, name)},
        {"addresses", found == addresses.end() ? boost::json::array{} : std::move(found->second)}};
}

boost::json::array interfaces(const context& ctx, error_list& errors) {
    boost::json::array out;
    std::vector<std::string> names;
    std::error_code ec;
    std::filesystem::directory_iterator it(ctx.path("/sys/class/net"), ec), end;
    if (ec) {
        errors.add(section, "/sys/class/net",
                   ec == std::errc::no_such_file_or_directory ? "absent" : ec.message());
        return out;
    }
    for (; !ec && it != end; it.increment(ec)) names.push_back(it->path().filename().string());
    std::sort(names.begin(), names.end());
    auto addresses = ctx.live() ? live_addresses(errors) : fixture_addresses(ctx, errors);
    for (const auto& name : names) out.emplace_back(describe_interface(ctx, name, addresses));
    return out;
}

// ---------------------------------------------------------------- gateways and DNS

void push_unique(boost::json::array& list, std::string_view value) {
    if (std::find(list.begin(), list.end(), boost::json::value(value)) == list.end())
        list.emplace_back(value);
}

// /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask ...
void ipv4_gateways(const context& ctx, boost::json::array& out) {
    auto content = read_optional(ctx, "/proc/net/route");
    if (!content) return;
    for (auto line : split_lines(*content)) {
        auto f = split_fields(line);
        if (f.size() < 8 || f[1] != "00000000" || f[7] != "00000000") continue;
        auto flags = parse_hex_u32(f[3]);
        auto gateway = address_from_host_order_hex(f[2]);
        if (flags && (*flags & rtf_gateway) && gateway) push_unique(out, *gateway);
    }
}

// /proc/net/ipv6_route: dest dest_len src src_len next_hop metric refcnt use flags device
void ipv6_gateways(const context& ctx, boost::json::array& out) {
    auto content = read_optional(ctx, "/proc/net/ipv6_route");
    if (!content) return;
    for (auto line : split_lines(*content)) {
        auto f = split_fields(line);
        if (f.size() < 10 || f[1] != "00") continue;
        auto destination = ipv6_from_network_order_hex(f[0]);
        auto next_hop = ipv6_from_network_order_hex(f[4]);
        auto flags = parse_hex_u32(f[8]);
        if (destination == "::" && next_hop && *next_hop != "::" && flags && (*flags & rtf_gateway))
            push_unique(out, *next_hop);
    }
}

void nameservers_of(const context& ctx, std::string_view path, boost::json::array& out) {
    auto content = read_optional(ctx, path);
    if (!content) return;
    for (auto line : split_lines(*content)) {
        auto f = split_fields(line);
        if (f.size() >= 2 && f[0] == "nameserver") push_unique(out, f[1]);
    }
}

boost::json::array dns_servers(const context& ctx) {
    boost::json::array out;
    nameservers_of(ctx, "/etc/resolv.conf", out);
    if (std::find(out.begin(), out.end(), boost::json::value("127.0.0.53")) != out.end())
        nameservers_of(ctx, "/run/systemd/resolve/resolv.conf", out);
    return out;
}

}  // namespace

boost::json::value collect_network(const context& ctx, error_list& errors) {
    boost::json::array gateways;
    ipv4_gateways(ctx, gateways);
    ipv6_gateways(ctx, gateways);
    return boost::json::object{{"interfaces", interfaces(ctx, errors)},
                               {"default_gateways", std::move(gateways)},
                               {"dns_servers", dns_servers(ctx)}};
}

}  // namespace muster::agent::inventory
