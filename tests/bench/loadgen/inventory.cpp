#include "tests/bench/loadgen/inventory.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <random>
#include <set>
#include <string_view>

namespace muster::loadgen {
namespace {

namespace json = boost::json;
using rng = std::mt19937_64;

std::uint64_t splitmix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::size_t pick(rng& r, std::size_t n) {
    return static_cast<std::size_t>(r() % n);
}

std::string hex(rng& r, std::size_t digits) {
    static constexpr char alphabet[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < digits; ++i) out += alphabet[pick(r, 16)];
    return out;
}

std::string uuid(rng& r) {
    return hex(r, 8) + "-" + hex(r, 4) + "-4" + hex(r, 3) + "-a" + hex(r, 3) + "-" + hex(r, 12);
}

std::string serial(rng& r) {
    static constexpr char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    std::string out = "LG";
    for (int i = 0; i < 10; ++i) out += alphabet[pick(r, sizeof alphabet - 1)];
    return out;
}

std::string package_name(rng& r) {
    static constexpr std::array<std::string_view, 10> prefixes{
        "lib", "lib", "python3-", "node-", "golang-", "librust-", "fonts-", "", "", ""};
    static constexpr std::array<std::string_view, 24> syllables{
        "ar",  "bel", "cor", "dex", "fin", "gal", "hum", "io", "jet", "kra", "lum", "mor",
        "nex", "ox",  "pla", "qua", "ros", "sil", "tun", "ur", "vor", "wex", "xy",  "zen"};
    static constexpr std::array<std::string_view, 10> suffixes{
        "", "", "", "-dev", "-common", "-data", "-doc", "1", "-utils", "-bin"};
    std::string name(prefixes[pick(r, prefixes.size())]);
    auto count = 2 + pick(r, 3);
    for (std::size_t i = 0; i < count; ++i) name += syllables[pick(r, syllables.size())];
    name += suffixes[pick(r, suffixes.size())];
    return name;
}

std::string version(rng& r) {
    return std::to_string(pick(r, 12)) + "." + std::to_string(pick(r, 30)) + "." +
           std::to_string(pick(r, 20)) + "-" + std::to_string(1 + pick(r, 5));
}

std::string iso_date(std::int64_t unix_seconds) {
    auto t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

// The host's packages, as indices into the universe: the common ones, then a host-specific
// draw from the rest.
std::vector<std::size_t> host_packages(const package_universe& u, rng& r) {
    std::vector<std::size_t> chosen(u.common_count());
    for (std::size_t i = 0; i < chosen.size(); ++i) chosen[i] = i;
    std::vector<std::size_t> rest;
    for (std::size_t i = u.common_count(); i < u.all().size(); ++i) rest.push_back(i);
    auto extra = std::min(rest.size(), u.shape().packages - u.common_count());
    for (std::size_t i = 0; i < extra; ++i) {
        std::swap(rest[i], rest[i + pick(r, rest.size() - i)]);
        chosen.push_back(rest[i]);
    }
    return chosen;
}

json::array software(const package_universe& u, std::uint64_t host, std::uint64_t rounds, rng& r) {
    auto chosen = host_packages(u, r);
    // Hosts fall into patch levels: one package in ten differs between levels.
    auto level = host % 5;
    std::vector<int> upgrades(chosen.size(), 0);
    for (std::uint64_t round = 1; round <= rounds; ++round) {
        rng churn(mix_seed(u.shape().seed, host, 1000000 + round));
        for (int i = 0; i < churn_upgrades_per_round; ++i) ++upgrades[pick(churn, chosen.size())];
    }
    json::array out;
    out.reserve(chosen.size());
    for (std::size_t i = 0; i < chosen.size(); ++i) {
        const auto& p = u.all()[chosen[i]];
        std::string v = p.version;
        if (level != 0 && chosen[i] % 10 == 3) v += "+deb12u" + std::to_string(level);
        if (upgrades[i] != 0) v += "+lg" + std::to_string(upgrades[i]);
        out.push_back(json::object{
            {"name", p.name},
            {"version", v},
            {"arch", p.arch},
            {"source", "deb"},
            {"vendor", "Debian"},
            {"installed_at", iso_date(1700000000 + static_cast<std::int64_t>(pick(r, 5000000)))},
            {"size_bytes", p.size_bytes}});
    }
    return out;
}

json::object system_section(const std::string& hostname, const std::string& machine_id, rng& r) {
    return {{"hostname", hostname},
            {"fqdn", hostname + ".lab.example.org"},
            {"machine_id", machine_id},
            {"boot_id", uuid(r)},
            {"uptime_seconds", 86400 + static_cast<std::int64_t>(pick(r, 1000000))},
            {"timezone", "Etc/UTC"},
            {"virtualization", "kvm"},
            {"container", nullptr},
            {"tags", json::array{"loadgen"}}};
}

json::object hardware_section(const std::string& serial_number, const std::string& product_uuid,
                              rng& r) {
    json::array dimms;
    for (int i = 0; i < 4; ++i) {
        dimms.push_back(json::object{{"slot", "DIMM " + std::to_string(i)},
                                     {"size_bytes", std::int64_t{17179869184}},
                                     {"type", "DDR4"},
                                     {"speed_mts", 3200},
                                     {"manufacturer", "Samsung"},
                                     {"serial", hex(r, 8)},
                                     {"part_number", "M393A2K43DB3-CWE"}});
    }
    return {{"vendor", "Dell Inc."},
            {"product", "PowerEdge R650"},
            {"version", nullptr},
            {"serial", serial_number},
            {"product_uuid", product_uuid},
            {"board", {{"vendor", "Dell Inc."}, {"product", "0X7KFF"}, {"serial", serial(r)}}},
            {"chassis", {{"type", "rack"}, {"serial", serial_number}, {"asset_tag", nullptr}}},
            {"bios", {{"vendor", "Dell Inc."}, {"version", "1.10.2"}, {"date", "2023-05-11"}}},
            {"memory_devices", std::move(dimms)}};
}

json::object os_section() {
    return {{"id", "debian"},
            {"id_like", nullptr},
            {"name", "Debian GNU/Linux"},
            {"version_id", "12"},
            {"pretty_name", "Debian GNU/Linux 12 (bookworm)"},
            {"kernel_name", "Linux"},
            {"kernel_release", "6.1.0-28-amd64"},
            {"kernel_version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)"},
            {"arch", "x86_64"}};
}

json::array disks(rng& r) {
    json::array out;
    for (int i = 0; i < 2; ++i) {
        out.push_back(json::object{{"name", i == 0 ? "nvme0n1" : "sda"},
                                   {"model", i == 0 ? "Dell Ent NVMe P5500" : "ST4000NM0035"},
                                   {"serial", serial(r)},
                                   {"wwn", "eui." + hex(r, 16)},
                                   {"size_bytes", std::int64_t{960197124096} * (i + 1)},
                                   {"rotational", i != 0},
                                   {"removable", false},
                                   {"type", "disk"}});
    }
    return out;
}

json::array filesystems(rng& r) {
    static constexpr std::array<std::string_view, 5> mounts{"/", "/boot", "/boot/efi", "/var",
                                                            "/srv"};
    json::array out;
    for (std::size_t i = 0; i < mounts.size(); ++i) {
        std::int64_t total = std::int64_t{1} << (30 + i % 4);
        out.push_back(
            json::object{{"mountpoint", mounts[i]},
                         {"device", "/dev/nvme0n1p" + std::to_string(i + 1)},
                         {"type", i == 2 ? "vfat" : "ext4"},
                         {"total_bytes", total},
                         {"free_bytes", total / 2 + static_cast<std::int64_t>(pick(r, 1000))},
                         {"read_only", false}});
    }
    return out;
}

json::object network(std::uint64_t host, std::uint64_t seed) {
    auto h = static_cast<unsigned>(host);
    char mac[32];
    std::snprintf(mac, sizeof mac, "52:54:%02x:%02x:%02x:%02x", static_cast<unsigned>(seed % 256),
                  (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff);
    std::string v4 = "10." + std::to_string((h >> 16) & 0xff) + "." +
                     std::to_string((h >> 8) & 0xff) + "." + std::to_string(h & 0xff);
    char v6[64];
    std::snprintf(v6, sizeof v6, "fd00:%x::%x", static_cast<unsigned>(seed % 65536), h);
    json::array interfaces{
        json::object{
            {"name", "lo"},
            {"mac", nullptr},
            {"mtu", 65536},
            {"state", "unknown"},
            {"speed_mbps", nullptr},
            {"type", "loopback"},
            {"addresses",
             json::array{json::object{{"family", "ipv4"}, {"address", "127.0.0.1"}, {"prefix", 8}},
                         json::object{{"family", "ipv6"}, {"address", "::1"}, {"prefix", 128}}}}},
        json::object{
            {"name", "eno1"},
            {"mac", mac},
            {"mtu", 1500},
            {"state", "up"},
            {"speed_mbps", 10000},
            {"type", "ethernet"},
            {"addresses",
             json::array{json::object{{"family", "ipv4"}, {"address", v4}, {"prefix", 8}},
                         json::object{{"family", "ipv6"}, {"address", v6}, {"prefix", 64}}}}}};
    return {{"interfaces", std::move(interfaces)},
            {"default_gateways", json::array{"10.0.0.1"}},
            {"dns_servers", json::array{"10.0.0.2", "10.0.0.3"}}};
}

json::array services(rng& r) {
    static constexpr std::array<std::string_view, 12> base{"cron",
                                                           "dbus",
                                                           "ssh",
                                                           "systemd-journald",
                                                           "systemd-logind",
                                                           "systemd-udevd",
                                                           "systemd-timesyncd",
                                                           "rsyslog",
                                                           "chrony",
                                                           "nginx",
                                                           "postgresql",
                                                           "unattended-upgrades"};
    json::array out;
    auto add = [&](const std::string& name, bool active) {
        out.push_back(json::object{{"name", name + ".service"},
                                   {"load_state", "loaded"},
                                   {"active_state", active ? "active" : "inactive"},
                                   {"sub_state", active ? "running" : "dead"},
                                   {"enabled", active ? "enabled" : "disabled"}});
    };
    for (auto name : base) add(std::string(name), true);
    for (int i = 0; i < 50; ++i) add("app-" + std::to_string(i), pick(r, 3) != 0);
    return out;
}

json::array listening_ports() {
    static constexpr std::array<std::pair<int, std::string_view>, 8> ports{{{22, "sshd"},
                                                                            {80, "nginx"},
                                                                            {443, "nginx"},
                                                                            {5432, "postgres"},
                                                                            {9100, "node_exporter"},
                                                                            {8080, "java"},
                                                                            {323, "chronyd"},
                                                                            {25, "exim4"}}};
    json::array out;
    for (auto [port, process] : ports) {
        out.push_back(json::object{{"protocol", port == 323 ? "udp" : "tcp"},
                                   {"family", "ipv4"},
                                   {"address", port == 25 ? "127.0.0.1" : "0.0.0.0"},
                                   {"port", port},
                                   {"pid", 400 + port},
                                   {"process", process}});
    }
    return out;
}

json::array users(std::uint64_t host) {
    static constexpr std::array<std::string_view, 24> system_users{"root",
                                                                   "daemon",
                                                                   "bin",
                                                                   "sys",
                                                                   "sync",
                                                                   "games",
                                                                   "man",
                                                                   "lp",
                                                                   "mail",
                                                                   "news",
                                                                   "uucp",
                                                                   "proxy",
                                                                   "www-data",
                                                                   "backup",
                                                                   "list",
                                                                   "irc",
                                                                   "_apt",
                                                                   "nobody",
                                                                   "systemd-network",
                                                                   "systemd-resolve",
                                                                   "messagebus",
                                                                   "sshd",
                                                                   "postgres",
                                                                   "chrony"};
    json::array out;
    int uid = 0;
    for (auto name : system_users) {
        out.push_back(json::object{{"name", name},
                                   {"uid", uid},
                                   {"gid", uid},
                                   {"home", "/var/lib/" + std::string(name)},
                                   {"shell", "/usr/sbin/nologin"}});
        ++uid;
    }
    for (int i = 0; i < 4; ++i) {
        auto name = "user" + std::to_string((host + static_cast<std::uint64_t>(i) * 7) % 50);
        out.push_back(json::object{{"name", name},
                                   {"uid", 1000 + i},
                                   {"gid", 1000 + i},
                                   {"home", "/home/" + name},
                                   {"shell", "/bin/bash"}});
    }
    return out;
}

struct identity {
    std::string hostname, machine_id, product_uuid, serial_number;
};

identity identity_of(const package_universe& u, std::uint64_t host, rng& r) {
    char name[64];
    std::snprintf(name, sizeof name, "lg%llu-h%06llu",
                  static_cast<unsigned long long>(u.shape().seed % 1000),
                  static_cast<unsigned long long>(host));
    identity id;
    id.hostname = name;
    id.machine_id = hex(r, 32);
    id.product_uuid = uuid(r);
    id.serial_number = serial(r);
    return id;
}

}  // namespace

std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
    return splitmix(splitmix(splitmix(a) ^ b) ^ c);
}

package_universe::package_universe(const fleet_shape& shape) : shape_(shape) {
    rng r(mix_seed(shape.seed, 0xC0FFEE));
    auto total = shape.packages + shape.packages / 4;
    common_ = shape.packages * 85 / 100;
    std::set<std::string> seen;
    while (packages_.size() < total) {
        auto name = package_name(r);
        // A generated name never ends in "-<digits>", so the suffixed one is new.
        if (!seen.insert(name).second) name += "-" + std::to_string(packages_.size());
        packages_.push_back({name, version(r), pick(r, 5) == 0 ? "all" : "amd64",
                             static_cast<std::int64_t>(1024 * (1 + pick(r, 50000)))});
    }
}

boost::json::object host_facts(const package_universe& universe, std::uint64_t host) {
    rng r(mix_seed(universe.shape().seed, host, 1));
    auto id = identity_of(universe, host, r);
    return {{"hostname", id.hostname},
            {"machine_id", id.machine_id},
            {"product_uuid", id.product_uuid},
            {"serial", id.serial_number}};
}

boost::json::object host_inventory(const package_universe& universe, std::uint64_t host,
                                   std::uint64_t churn_rounds) {
    rng r(mix_seed(universe.shape().seed, host, 1));
    auto id = identity_of(universe, host, r);
    return {{"schema_version", 1},
            {"system", system_section(id.hostname, id.machine_id, r)},
            {"hardware", hardware_section(id.serial_number, id.product_uuid, r)},
            {"os", os_section()},
            {"cpu",
             {{"model", "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"},
              {"vendor", "GenuineIntel"},
              {"sockets", 2},
              {"physical_cores", 64},
              {"logical_cores", 128},
              {"mhz", 2000}}},
            {"memory",
             {{"total_bytes", std::int64_t{68719476736}},
              {"available_bytes", std::int64_t{34359738368}},
              {"swap_total_bytes", std::int64_t{4294967296}},
              {"swap_free_bytes", std::int64_t{4294967296}}}},
            {"disks", disks(r)},
            {"filesystems", filesystems(r)},
            {"network", network(host, universe.shape().seed)},
            {"software", software(universe, host, churn_rounds, r)},
            {"services", services(r)},
            {"listening_ports", listening_ports()},
            {"users", users(host)},
            {"errors", json::array{}}};
}

}  // namespace muster::loadgen
