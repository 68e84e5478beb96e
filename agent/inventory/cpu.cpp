// Section "cpu": model, vendor, and how many sockets, cores and hardware threads.
//
// /proc/cpuinfo has one block per logical CPU ("processor: N"). On x86 each block also names
// its package ("physical id") and core ("core id"); on arm64 these are missing and the
// topology comes from /sys/devices/system/cpu/cpuN/topology, and the model from the
// "CPU implementer"/"CPU part" codes. A cpuinfo that is not text is reported as corrupt and
// every field is null.
#include "agent/inventory/collectors.h"
#include "agent/inventory/read.h"
#include "agent/inventory/text.h"
#include "common/file.h"

#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <utility>

namespace muster::agent::inventory {

namespace {

constexpr std::string_view section = "cpu";
constexpr std::string_view cpuinfo_path = "/proc/cpuinfo";

struct cpu_block {
    std::map<std::string, std::string, std::less<>> fields;
    std::optional<std::string> get(std::string_view key) const {
        auto it = fields.find(key);
        if (it == fields.end() || it->second.empty()) return std::nullopt;
        return it->second;
    }
};

// The blocks that describe a logical CPU (those with a "processor" number).
std::vector<cpu_block> parse_cpuinfo(std::string_view text) {
    std::vector<cpu_block> blocks;
    cpu_block current;
    auto flush = [&] {
        if (current.get("processor")) blocks.push_back(std::move(current));
        current = {};
    };
    for (auto line : split_lines(text)) {
        if (trim(line).empty()) {
            flush();
            continue;
        }
        if (auto kv = split_key_value(line))
            current.fields.emplace(std::string(kv->key), std::string(kv->value));
    }
    flush();
    return blocks;
}

std::optional<std::uint64_t> parse_code(const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    std::string_view s = *text;
    int base = 10;
    if (s.starts_with("0x") || s.starts_with("0X")) {
        s.remove_prefix(2);
        base = 16;
    }
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
    return value;
}

// Arm Ltd. assigns implementer codes; a few well-known ones.
std::optional<std::string> arm_implementer_name(std::optional<std::uint64_t> code) {
    static constexpr std::array<std::pair<std::uint64_t, std::string_view>, 13> names = {{
        {0x41, "ARM"},
        {0x42, "Broadcom"},
        {0x43, "Cavium"},
        {0x46, "Fujitsu"},
        {0x48, "HiSilicon"},
        {0x4e, "NVIDIA"},
        {0x50, "APM"},
        {0x51, "Qualcomm"},
        {0x53, "Samsung"},
        {0x56, "Marvell"},
        {0x61, "Apple"},
        {0x69, "Intel"},
        {0xc0, "Ampere"},
    }};
    for (const auto& [value, name] : names)
        if (code == value) return std::string(name);
    return std::nullopt;
}

// Cores designed by Arm Ltd. (implementer 0x41) that servers and boards commonly use.
std::optional<std::string> arm_core_name(std::optional<std::uint64_t> part) {
    static constexpr std::array<std::pair<std::uint64_t, std::string_view>, 14> names = {{
        {0xd03, "Cortex-A53"},
        {0xd04, "Cortex-A35"},
        {0xd05, "Cortex-A55"},
        {0xd07, "Cortex-A57"},
        {0xd08, "Cortex-A72"},
        {0xd09, "Cortex-A73"},
        {0xd0a, "Cortex-A75"},
        {0xd0b, "Cortex-A76"},
        {0xd0c, "Neoverse-N1"},
        {0xd0d, "Cortex-A77"},
        {0xd40, "Neoverse-V1"},
        {0xd41, "Cortex-A78"},
        {0xd49, "Neoverse-N2"},
        {0xd4f, "Neoverse-V2"},
    }};
    for (const auto& [value, name] : names)
        if (part == value) return std::string(name);
    return std::nullopt;
}

std::optional<std::string> model_of(const cpu_block& first) {
    if (auto model = first.get("model name")) return model;
    if (parse_code(first.get("CPU implementer")) == 0x41)
        return arm_core_name(parse_code(first.get("CPU part")));
    return std::nullopt;
}

std::optional<std::string> vendor_of(const cpu_block& first) {
    if (auto vendor = first.get("vendor_id")) return vendor;
    return arm_implementer_name(parse_code(first.get("CPU implementer")));
}

std::optional<double> mhz_of(const context& ctx, const cpu_block& first) {
    if (auto text = first.get("cpu MHz")) {
        double value = 0;
        auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
        if (ec == std::errc() && end == text->data() + text->size() && value > 0) return value;
    }
    // No "cpu MHz" on arm64: the cpufreq maximum (kHz), when the board exposes it.
    auto khz = read_optional(ctx, "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq");
    if (auto value = khz ? parse_u64(*khz) : std::nullopt)
        return static_cast<double>(*value) / 1000;
    return std::nullopt;
}

struct topology {
    std::optional<std::uint64_t> sockets;
    std::optional<std::uint64_t> cores;
};

// Distinct packages and distinct (package, core) pairs. Each CPU's ids come from cpuinfo,
// else from sysfs; if any CPU has neither, the counts are unknown.
topology topology_of(const context& ctx, const std::vector<cpu_block>& blocks) {
    std::set<std::string> packages;
    std::set<std::pair<std::string, std::string>> cores;
    for (const auto& block : blocks) {
        auto package = block.get("physical id");
        auto core = block.get("core id");
        auto number = parse_u64(block.get("processor").value_or(""));
        if ((!package || !core) && number) {
            std::string dir =
                "/sys/devices/system/cpu/cpu" + std::to_string(*number) + "/topology/";
            package = read_optional(ctx, dir + "physical_package_id");
            core = read_optional(ctx, dir + "core_id");
        }
        if (!package || !core) return {};
        packages.insert(*package);
        cores.emplace(*package, *core);
    }
    return {packages.size(), cores.size()};
}

boost::json::object all_null() {
    return {{"model", nullptr},          {"vendor", nullptr},        {"sockets", nullptr},
            {"physical_cores", nullptr}, {"logical_cores", nullptr}, {"mhz", nullptr}};
}

}  // namespace

boost::json::value collect_cpu(const context& ctx, error_list& errors) {
    auto text = read_required(ctx, errors, section, cpuinfo_path, 16 << 20);
    if (!text) return all_null();
    if (auto at = first_binary_byte(*text)) {
        errors.add(section, cpuinfo_path, "corrupt at byte " + std::to_string(*at) + ": not text");
        return all_null();
    }
    auto blocks = parse_cpuinfo(*text);
    if (blocks.empty()) {
        errors.add(section, cpuinfo_path, "corrupt at byte 0: no processor entries");
        return all_null();
    }
    const auto& first = blocks.front();
    auto counts = topology_of(ctx, blocks);
    auto mhz = mhz_of(ctx, first);
    return boost::json::object{
        {"model", json_or_null(model_of(first))},
        {"vendor", json_or_null(vendor_of(first))},
        {"sockets", json_or_null(counts.sockets)},
        {"physical_cores", json_or_null(counts.cores)},
        {"logical_cores", blocks.size()},
        {"mhz", mhz ? boost::json::value(std::llround(*mhz)) : boost::json::value(nullptr)},
    };
}

}  // namespace muster::agent::inventory
