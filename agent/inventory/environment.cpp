#include "agent/inventory/environment.h"

#include "agent/inventory/read.h"
#include "agent/inventory/text.h"
#include "common/file.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <utility>

namespace muster::agent::inventory {

namespace {

bool contains_ignoring_case(std::string_view haystack, std::string_view needle) {
    auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                          [](char a, char b) {
                              return std::tolower(static_cast<unsigned char>(a)) ==
                                     std::tolower(static_cast<unsigned char>(b));
                          });
    return !needle.empty() && it != haystack.end();
}

bool exists_under_root(const context& ctx, std::string_view absolute) {
    std::error_code ec;
    return std::filesystem::exists(ctx.path(absolute), ec);
}

std::string file_or_empty(const context& ctx, std::string_view absolute) {
    return read_optional(ctx, absolute).value_or("");
}

// ---- virtualization ------------------------------------------------------------------------

// The 12-byte signature of CPUID leaf 0x40000000, only when CPUID leaf 1 says a hypervisor is
// present; nullopt on other architectures and on bare metal.
std::optional<std::string> live_cpuid_signature() {
#if defined(__x86_64__) || defined(__i386__)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return std::nullopt;
    if ((ecx & (1u << 31)) == 0) return std::nullopt;
    __cpuid(0x40000000, eax, ebx, ecx, edx);
    char signature[12];
    std::memcpy(signature, &ebx, 4);
    std::memcpy(signature + 4, &ecx, 4);
    std::memcpy(signature + 8, &edx, 4);
    return std::string(signature, sizeof signature);
#else
    return std::nullopt;
#endif
}

bool cpuinfo_has_hypervisor_flag(const context& ctx) {
    auto content = read_file(ctx.path("/proc/cpuinfo"), 16 << 20);
    if (!content) return false;
    for (auto line : split_lines(*content)) {
        auto kv = split_key_value(line);
        if (!kv || kv->key != "flags") continue;
        auto words = split_words(kv->value);
        return std::find(words.begin(), words.end(), "hypervisor") != words.end();
    }
    return false;
}

bool is_xen_guest(const context& ctx) {
    if (file_or_empty(ctx, "/sys/hypervisor/type") == "xen") return true;
    if (!exists_under_root(ctx, "/proc/xen")) return false;
    // dom0 also has /proc/xen; it is the host, not a guest.
    return file_or_empty(ctx, "/proc/xen/capabilities").find("control_d") == std::string::npos;
}

bool has_kvm_clock(const context& ctx) {
    auto sources =
        file_or_empty(ctx, "/sys/devices/system/clocksource/clocksource0/available_clocksource");
    auto words = split_words(sources);
    return std::find(words.begin(), words.end(), "kvm-clock") != words.end();
}

dmi_identity read_dmi_identity(const context& ctx) {
    return {file_or_empty(ctx, "/sys/class/dmi/id/sys_vendor"),
            file_or_empty(ctx, "/sys/class/dmi/id/product_name"),
            file_or_empty(ctx, "/sys/class/dmi/id/board_vendor"),
            file_or_empty(ctx, "/sys/class/dmi/id/bios_vendor")};
}

// ---- container ----------------------------------------------------------------------------

std::string container_name_from_word(std::string_view word) {
    word = trim(word);
    if (word == "oci") return "container-other";
    if (word == "lxc-libvirt") return "lxc";
    return std::string(word);
}

std::optional<std::string> container_from_pid1_environ(const context& ctx) {
    auto content = read_file(ctx.path("/proc/1/environ"), 1 << 20);
    if (!content) return std::nullopt;  // unreadable without privileges: weak evidence only
    std::string_view rest = *content;
    while (!rest.empty()) {
        auto end = rest.find('\0');
        auto entry = rest.substr(0, end);
        if (entry.starts_with("container=") && entry.size() > 10)
            return container_name_from_word(entry.substr(10));
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end + 1);
    }
    return std::nullopt;
}

std::optional<std::string> container_from_pid1_cgroup(const context& ctx) {
    auto content = read_optional(ctx, "/proc/1/cgroup");
    if (!content) return std::nullopt;
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> patterns = {{
        {"/docker/", "docker"},
        {"/docker-", "docker"},
        {"/libpod-", "podman"},
        {"/lxc/", "lxc"},
        {"/lxc.payload", "lxc"},
        {"/kubepods", "kubernetes"},
    }};
    for (auto line : split_lines(*content))
        for (const auto& [pattern, name] : patterns)
            if (line.find(pattern) != std::string_view::npos) return std::string(name);
    return std::nullopt;
}

}  // namespace

std::optional<std::string> hypervisor_from_dmi(const dmi_identity& dmi, bool& generic_emulator) {
    generic_emulator = false;
    const auto& vendor = dmi.sys_vendor;
    const auto& product = dmi.product_name;
    auto any = [&](std::string_view needle) {
        return contains_ignoring_case(vendor, needle) || contains_ignoring_case(product, needle) ||
               contains_ignoring_case(dmi.board_vendor, needle) ||
               contains_ignoring_case(dmi.bios_vendor, needle);
    };
    // EC2 bare-metal instances carry the Amazon vendor too but are not virtual machines.
    if (contains_ignoring_case(vendor, "Amazon EC2"))
        return contains_ignoring_case(product, ".metal") ? std::nullopt
                                                         : std::optional<std::string>("amazon");
    if (contains_ignoring_case(vendor, "Google") && contains_ignoring_case(product, "Compute"))
        return "google";
    if (contains_ignoring_case(vendor, "Microsoft") &&
        contains_ignoring_case(product, "Virtual Machine"))
        return "microsoft";
    if (any("VMware") || contains_ignoring_case(vendor, "VMW")) return "vmware";
    if (any("innotek") || any("VirtualBox")) return "virtualbox";
    if (any("Parallels")) return "parallels";
    if (any("BHYVE")) return "bhyve";
    if (contains_ignoring_case(product, "KVM") || any("OpenStack") || any("KubeVirt")) return "kvm";
    if (vendor == "Xen" || dmi.bios_vendor == "Xen") return "xen";
    generic_emulator = true;
    if (any("QEMU")) return "qemu";
    if (any("Bochs")) return "bochs";
    generic_emulator = false;
    return std::nullopt;
}

std::optional<std::string> hypervisor_from_cpuid_signature(std::string_view signature) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 11> known = {{
        {"KVMKVMKVM", "kvm"},
        {"Linux KVM Hv", "kvm"},
        {"TCGTCGTCGTCG", "qemu"},
        {"Microsoft Hv", "microsoft"},
        {"VMwareVMware", "vmware"},
        {"XenVMMXenVMM", "xen"},
        {"bhyve bhyve ", "bhyve"},
        {"VBoxVBoxVBox", "virtualbox"},
        {" lrpepyh  vr", "parallels"},
        {"ACRNACRNACRN", "acrn"},
        {"SRESRESRESRE", "sre"},
    }};
    for (const auto& [prefix, name] : known)
        if (signature.starts_with(prefix)) return std::string(name);
    if (signature.starts_with("QNXQVMBSQG")) return "qnx";
    return std::nullopt;
}

std::string detect_virtualization(const context& ctx) {
    bool generic_emulator = false;
    auto from_dmi = hypervisor_from_dmi(read_dmi_identity(ctx), generic_emulator);
    if (from_dmi && !generic_emulator) return *from_dmi;
    if (ctx.live())
        if (auto signature = live_cpuid_signature())
            if (auto name = hypervisor_from_cpuid_signature(*signature)) return *name;
    if (has_kvm_clock(ctx)) return "kvm";
    if (from_dmi) return *from_dmi;
    if (is_xen_guest(ctx)) return "xen";
    if (cpuinfo_has_hypervisor_flag(ctx)) return "other";
    return "none";
}

std::string detect_container(const context& ctx) {
    if (exists_under_root(ctx, "/proc/vz") && !exists_under_root(ctx, "/proc/bc")) return "openvz";
    auto osrelease = file_or_empty(ctx, "/proc/sys/kernel/osrelease");
    if (contains_ignoring_case(osrelease, "microsoft") || contains_ignoring_case(osrelease, "WSL"))
        return "wsl";
    if (exists_under_root(ctx, "/run/.containerenv")) return "podman";
    if (exists_under_root(ctx, "/.dockerenv")) return "docker";
    if (auto word = read_optional(ctx, "/run/systemd/container"))
        return container_name_from_word(*word);
    if (auto name = container_from_pid1_environ(ctx)) return *name;
    if (auto name = container_from_pid1_cgroup(ctx)) return *name;
    return "none";
}

}  // namespace muster::agent::inventory
