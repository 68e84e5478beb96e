// Section "system" on the fixture trees, and the virtualization/container detection on trees
// built at test time.
#include "agent/inventory/collectors.h"
#include "agent/inventory/environment.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace muster::agent::inventory;
namespace fs = std::filesystem;

namespace {

boost::json::object system_of(const std::string& root, error_list& errors,
                              std::vector<std::string> tags = {}) {
    return collect_system(context(root, std::move(tags)), errors).as_object();
}

std::string fixture(const char* name) {
    return std::string(MUSTER_FIXTURES "/roots/") + name;
}

void write(const std::string& root, const std::string& path, const std::string& content) {
    fs::path full = fs::path(root) / path.substr(1);
    fs::create_directories(full.parent_path());
    std::ofstream(full, std::ios::binary) << content;
}

}  // namespace

TEST_CASE("server: a bare-metal host") {
    error_list errors;
    auto s = system_of(fixture("server"), errors, {"db", "prod"});
    CHECK(s.at("hostname") == "db01");
    CHECK(s.at("fqdn") == "db01.example.com");
    CHECK(s.at("machine_id") == "a3f1c2d4e5b6478990abcdef12345678");
    CHECK(s.at("boot_id") == "5e1c9a7b-2d3f-4c8e-9a1b-6f0e2d4c8a13");
    CHECK(s.at("uptime_seconds") == 1234567);
    CHECK(s.at("timezone") == "Europe/Berlin");  // from the /etc/localtime link
    CHECK(s.at("virtualization") == "none");
    CHECK(s.at("container") == "none");
    CHECK(s.at("tags") == boost::json::array{"db", "prod"});
    CHECK(errors.entries().empty());
}

TEST_CASE("vm: a KVM guest with QEMU firmware and the dbus machine id") {
    error_list errors;
    auto s = system_of(fixture("vm"), errors);
    CHECK(s.at("hostname") == "web-vm-3");
    CHECK(s.at("fqdn") == "web-vm-3.cloud.internal");
    CHECK(s.at("machine_id") == "0f9e8d7c6b5a49382716a5b4c3d2e1f0");
    CHECK(s.at("boot_id") == "0d4f5e6a-7b8c-4d9e-8f0a-1b2c3d4e5f60");
    CHECK(s.at("uptime_seconds") == 3600);
    CHECK(s.at("timezone") == "America/New_York");
    CHECK(s.at("virtualization") == "kvm");  // QEMU DMI refined by kvm-clock
    CHECK(s.at("container") == "none");
    CHECK(s.at("tags") == boost::json::array{});
    CHECK(errors.entries().empty());
}

TEST_CASE("container: docker, no machine id, no time zone") {
    error_list errors;
    auto s = system_of(fixture("container"), errors);
    CHECK(s.at("hostname") == "3f2a9c1b7d4e");
    CHECK(s.at("fqdn").is_null());
    CHECK(s.at("machine_id").is_null());
    CHECK(s.at("boot_id") == "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d");
    CHECK(s.at("uptime_seconds") == 98765);
    CHECK(s.at("timezone").is_null());
    CHECK(s.at("virtualization") == "none");
    CHECK(s.at("container") == "docker");
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries()[0].section == "system");
    CHECK(errors.entries()[0].path == "/etc/machine-id");
    CHECK(errors.entries()[0].reason == "absent");
}

TEST_CASE("debian: fqdn from the 127.0.1.1 line, zone from /etc/timezone") {
    error_list errors;
    auto s = system_of(fixture("debian"), errors);
    CHECK(s.at("hostname") == "debian-desk");
    CHECK(s.at("fqdn") == "debian-desk.home.arpa");
    CHECK(s.at("machine_id") == "d3b07384d113edec49eaa6238ad5ff00");
    CHECK(s.at("boot_id") == "c0ffee00-1234-4abc-8def-0123456789ab");
    CHECK(s.at("uptime_seconds") == 86400);
    CHECK(s.at("timezone") == "Europe/Paris");
    CHECK(s.at("virtualization") == "none");
    CHECK(s.at("container") == "none");
}

TEST_CASE("an empty root gives nulls and one entry per missing required file") {
    muster::test::temp_dir root;
    error_list errors;
    auto s = system_of(root.path(), errors);
    CHECK(s.at("hostname").is_null());
    CHECK(s.at("fqdn").is_null());
    CHECK(s.at("uptime_seconds").is_null());
    CHECK(s.at("virtualization") == "none");
    CHECK(s.at("container") == "none");
    std::vector<std::string> paths;
    for (const auto& e : errors.entries()) paths.push_back(e.path);
    CHECK(paths == std::vector<std::string>{"/etc/hostname", "/etc/machine-id", "/proc/uptime"});
}

TEST_CASE("fqdn: resolver domain, dotted hostname, localtime variants") {
    muster::test::temp_dir root;
    write(root.path(), "/etc/hostname", "app7\n");
    write(root.path(), "/etc/resolv.conf", "search corp.example\ndomain corp.example\n");
    write(root.path(), "/proc/uptime", "12.99 1.0\n");
    fs::create_directories(root.path() + "/etc");
    fs::create_symlink("../usr/share/zoneinfo/posix/Asia/Tokyo", root.path() + "/etc/localtime");
    error_list errors;
    auto s = system_of(root.path(), errors);
    CHECK(s.at("fqdn") == "app7.corp.example");
    CHECK(s.at("timezone") == "Asia/Tokyo");
    CHECK(s.at("uptime_seconds") == 12);

    write(root.path(), "/etc/hostname", "app7.lan.example\n");
    CHECK(system_of(root.path(), errors).at("fqdn") == "app7.lan.example");
}

TEST_CASE("corrupt /proc/uptime is an error entry, not a crash") {
    muster::test::temp_dir root;
    write(root.path(), "/proc/uptime", "soon\n");
    error_list errors;
    auto s = system_of(root.path(), errors);
    CHECK(s.at("uptime_seconds").is_null());
    bool reported = false;
    for (const auto& e : errors.entries())
        reported |= e.path == "/proc/uptime" && e.reason.starts_with("corrupt at byte 0");
    CHECK(reported);
}

TEST_CASE("container evidence, one source at a time") {
    muster::test::temp_dir root;
    context ctx(root.path());
    CHECK(detect_container(ctx) == "none");

    SECTION("podman") {
        write(root.path(), "/run/.containerenv", "engine=\"podman-4.3.1\"\n");
        CHECK(detect_container(ctx) == "podman");
    }
    SECTION("systemd-nspawn via /run/systemd/container") {
        write(root.path(), "/run/systemd/container", "systemd-nspawn\n");
        CHECK(detect_container(ctx) == "systemd-nspawn");
    }
    SECTION("lxc via PID 1's environment") {
        write(root.path(), "/proc/1/environ",
              std::string("PATH=/bin\0container=lxc\0TERM=xterm\0", 35));
        CHECK(detect_container(ctx) == "lxc");
    }
    SECTION("docker via the cgroup path of PID 1") {
        write(root.path(), "/proc/1/cgroup",
              "12:pids:/docker/3f2a9c1b7d4e5f\n0::/docker/3f2a9c1b7d4e5f\n");
        CHECK(detect_container(ctx) == "docker");
    }
    SECTION("kubernetes via the cgroup path of PID 1") {
        write(root.path(), "/proc/1/cgroup", "0::/kubepods/besteffort/pod1234/abcd\n");
        CHECK(detect_container(ctx) == "kubernetes");
    }
    SECTION("a host's init.scope is not a container") {
        write(root.path(), "/proc/1/cgroup", "0::/init.scope\n");
        CHECK(detect_container(ctx) == "none");
    }
    SECTION("wsl via the kernel release") {
        write(root.path(), "/proc/sys/kernel/osrelease", "5.15.146.1-microsoft-standard-WSL2\n");
        CHECK(detect_container(ctx) == "wsl");
    }
    SECTION("openvz") {
        fs::create_directories(root.path() + "/proc/vz");
        CHECK(detect_container(ctx) == "openvz");
    }
}

TEST_CASE("virtualization evidence, one source at a time") {
    muster::test::temp_dir root;
    context ctx(root.path());
    CHECK(detect_virtualization(ctx) == "none");

    SECTION("the CPU's hypervisor flag alone gives 'other'") {
        write(root.path(), "/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu sse hypervisor\n\n");
        CHECK(detect_virtualization(ctx) == "other");
    }
    SECTION("xen from /sys/hypervisor/type") {
        write(root.path(), "/sys/hypervisor/type", "xen\n");
        CHECK(detect_virtualization(ctx) == "xen");
    }
    SECTION("xen dom0 is not a guest") {
        write(root.path(), "/proc/xen/capabilities", "control_d\n");
        CHECK(detect_virtualization(ctx) == "none");
    }
    SECTION("a cloud vendor in DMI wins over the generic hypervisor flag") {
        write(root.path(), "/sys/class/dmi/id/sys_vendor", "Amazon EC2\n");
        write(root.path(), "/sys/class/dmi/id/product_name", "m5.large\n");
        write(root.path(), "/proc/cpuinfo", "processor\t: 0\nflags\t\t: hypervisor\n\n");
        CHECK(detect_virtualization(ctx) == "amazon");
    }
    SECTION("an EC2 bare-metal instance is not a VM") {
        write(root.path(), "/sys/class/dmi/id/sys_vendor", "Amazon EC2\n");
        write(root.path(), "/sys/class/dmi/id/product_name", "c5.metal\n");
        CHECK(detect_virtualization(ctx) == "none");
    }
}

TEST_CASE("DMI and CPUID vendor names map to the systemd-detect-virt vocabulary") {
    bool generic = false;
    CHECK(hypervisor_from_dmi({"VMware, Inc.", "VMware Virtual Platform", "", ""}, generic) ==
          "vmware");
    CHECK(hypervisor_from_dmi({"innotek GmbH", "VirtualBox", "", ""}, generic) == "virtualbox");
    CHECK(hypervisor_from_dmi({"Microsoft Corporation", "Virtual Machine", "", ""}, generic) ==
          "microsoft");
    CHECK(hypervisor_from_dmi({"Google", "Google Compute Engine", "", ""}, generic) == "google");
    CHECK(hypervisor_from_dmi({"OpenStack Foundation", "OpenStack Nova", "", ""}, generic) ==
          "kvm");
    CHECK(hypervisor_from_dmi({"Xen", "HVM domU", "", "Xen"}, generic) == "xen");
    CHECK(hypervisor_from_dmi({"QEMU", "Standard PC (i440FX + PIIX, 1996)", "", "SeaBIOS"},
                              generic) == "qemu");
    CHECK(generic);
    CHECK_FALSE(
        hypervisor_from_dmi({"Dell Inc.", "PowerEdge R730", "Dell Inc.", "Dell Inc."}, generic));
    CHECK(hypervisor_from_cpuid_signature(std::string("KVMKVMKVM\0\0\0", 12)) == "kvm");
    CHECK(hypervisor_from_cpuid_signature("Microsoft Hv") == "microsoft");
    CHECK(hypervisor_from_cpuid_signature("bhyve bhyve ") == "bhyve");
    CHECK_FALSE(hypervisor_from_cpuid_signature("GenuineIntel"));
}
