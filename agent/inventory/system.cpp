// Section "system": who the machine is (names, machine and boot ids), how long it has been up,
// its time zone, whether it is a virtual machine or a container, and the operator's tags.
#include "agent/inventory/collectors.h"
#include "agent/inventory/environment.h"
#include "agent/inventory/read.h"
#include "agent/inventory/text.h"
#include "common/file.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <filesystem>

namespace muster::agent::inventory {

namespace {

constexpr std::string_view section = "system";

std::optional<std::string> live_hostname() {
    char name[HOST_NAME_MAX + 1] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return std::nullopt;
    return std::string(name);
}

// The live kernel's name wins over /etc/hostname, which a container may not have updated.
std::optional<std::string> hostname(const context& ctx, error_list& errors) {
    if (ctx.live())
        if (auto name = live_hostname()) return name;
    auto content = read_required(ctx, errors, section, "/etc/hostname", 4096);
    if (!content) return std::nullopt;
    auto first_line = split_lines(trim(*content));
    if (first_line.empty() || trim(first_line.front()).empty()) return std::nullopt;
    return std::string(trim(first_line.front()));
}

// A name of /etc/hosts that is the hostname followed by a domain ("web1.example.com" for
// "web1"). Lines that also list the short name are preferred.
std::optional<std::string> fqdn_from_hosts(std::string_view hosts, const std::string& host) {
    std::string prefix = host + ".";
    std::optional<std::string> weaker;
    for (auto line : split_lines(hosts)) {
        auto words = split_words(line.substr(0, line.find('#')));
        if (words.size() < 2) continue;
        bool names_host = std::find(words.begin() + 1, words.end(), host) != words.end();
        for (std::size_t i = 1; i < words.size(); ++i) {
            if (!words[i].starts_with(prefix) || words[i].size() == prefix.size()) continue;
            if (names_host) return std::string(words[i]);
            if (!weaker) weaker = std::string(words[i]);
        }
    }
    return weaker;
}

// From /etc/hosts; otherwise the hostname with the resolver's "domain"; the hostname itself
// when it already contains a dot; null when none of these says.
std::optional<std::string> fqdn(const context& ctx, const std::string& host) {
    if (host.find('.') != std::string::npos) return host;
    if (auto hosts = read_optional(ctx, "/etc/hosts"))
        if (auto name = fqdn_from_hosts(*hosts, host)) return name;
    if (auto resolv = read_optional(ctx, "/etc/resolv.conf"))
        for (auto line : split_lines(*resolv)) {
            auto words = split_words(line);
            if (words.size() >= 2 && words[0] == "domain")
                return host + "." + std::string(words[1]);
        }
    return std::nullopt;
}

std::optional<std::string> machine_id(const context& ctx, error_list& errors) {
    if (auto id = read_optional(ctx, "/etc/machine-id")) return id;
    if (auto id = read_optional(ctx, "/var/lib/dbus/machine-id")) return id;
    errors.add(section, "/etc/machine-id", "absent");
    return std::nullopt;
}

std::optional<std::uint64_t> uptime_seconds(const context& ctx, error_list& errors) {
    auto content = read_required(ctx, errors, section, "/proc/uptime", 4096);
    if (!content) return std::nullopt;
    auto words = split_words(*content);
    double seconds = 0;
    if (!words.empty()) {
        auto [end, ec] =
            std::from_chars(words[0].data(), words[0].data() + words[0].size(), seconds);
        if (ec == std::errc() && end == words[0].data() + words[0].size() && seconds >= 0 &&
            std::isfinite(seconds))
            return static_cast<std::uint64_t>(seconds);
    }
    errors.add(section, "/proc/uptime", "corrupt at byte 0: not a number of seconds");
    return std::nullopt;
}

// /etc/timezone (Debian), else the zone named by the /etc/localtime symlink.
std::optional<std::string> timezone(const context& ctx) {
    if (auto zone = read_optional(ctx, "/etc/timezone")) return zone;
    std::error_code ec;
    auto target = std::filesystem::read_symlink(ctx.path("/etc/localtime"), ec);
    if (ec) return std::nullopt;
    std::string text = target.string();
    constexpr std::string_view marker = "zoneinfo/";
    auto at = text.find(marker);
    if (at == std::string::npos) return std::nullopt;
    std::string_view zone = std::string_view(text).substr(at + marker.size());
    // posix/ and right/ are variants of the same zone database.
    for (std::string_view variant : {"posix/", "right/"})
        if (zone.starts_with(variant)) zone.remove_prefix(variant.size());
    if (zone.empty()) return std::nullopt;
    return std::string(zone);
}

}  // namespace

boost::json::value collect_system(const context& ctx, error_list& errors) {
    auto host = hostname(ctx, errors);
    boost::json::array tags;
    for (const auto& tag : ctx.tags()) tags.emplace_back(tag);
    return boost::json::object{
        {"hostname", json_or_null(host)},
        {"fqdn", host ? json_or_null(fqdn(ctx, *host)) : boost::json::value(nullptr)},
        {"machine_id", json_or_null(machine_id(ctx, errors))},
        {"boot_id",
         json_or_null(read_attribute(ctx, errors, section, "/proc/sys/kernel/random/boot_id"))},
        {"uptime_seconds", json_or_null(uptime_seconds(ctx, errors))},
        {"timezone", json_or_null(timezone(ctx))},
        {"virtualization", detect_virtualization(ctx)},
        {"container", detect_container(ctx)},
        {"tags", std::move(tags)},
    };
}

}  // namespace muster::agent::inventory
