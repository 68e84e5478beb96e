// Fuzz target: the /proc, /sys and /etc text files the inventory collectors parse. The first
// byte picks the file (modulo the table); the rest becomes that file of an otherwise empty
// root, read by the real collector of its section, whose result is serialized.
#include "agent/inventory/collectors.h"
#include "tests/fuzz/fuzz_support.h"

#include <array>
#include <boost/json.hpp>

namespace {

using namespace muster::agent::inventory;

struct parsed_file {
    std::string_view path;
    collector_fn collect;
};

constexpr std::array<parsed_file, 22> files{{
    {"/proc/meminfo", collect_memory},
    {"/proc/cpuinfo", collect_cpu},
    {"/proc/self/mountinfo", collect_filesystems},
    {"/proc/mounts", collect_filesystems},
    {"/proc/net/tcp", collect_listening_ports},
    {"/proc/net/tcp6", collect_listening_ports},
    {"/proc/net/udp", collect_listening_ports},
    {"/proc/net/udp6", collect_listening_ports},
    {"/etc/passwd", collect_users},
    {"/proc/net/route", collect_network},
    {"/proc/net/ipv6_route", collect_network},
    {"/proc/net/if_inet6", collect_network},
    {"/etc/resolv.conf", collect_network},
    {"/proc/uptime", collect_system},
    {"/etc/hosts", collect_system},
    {"/etc/hostname", collect_system},
    {"/proc/1/cgroup", collect_system},
    {"/proc/1/environ", collect_system},
    {"/sys/block/sda/size", collect_disks},
    {"/proc/sys/kernel/osrelease", collect_os},
    {"/sys/class/dmi/id/chassis_type", collect_hardware},
    {"/etc/systemd/system/fuzz.service", collect_services},
}};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto& file = files[data[0] % files.size()];
    muster::fuzz::fake_root root;
    root.write(file.path, muster::fuzz::as_text(data + 1, size - 1));
    error_list errors;
    (void)boost::json::serialize(file.collect(root.context(), errors));
    return 0;
}
