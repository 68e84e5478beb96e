// The real agent on this machine, its system/os/cpu/memory sections checked against the
// system's own tools (nproc, hostname, uname, systemd-detect-virt, /proc read independently).
#include "support/process.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>

namespace {

using muster::test::run;
using muster::test::run_shell;

boost::json::object agent_inventory(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {MUSTER_AGENT_BIN, "inventory"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto result = run(argv);
    REQUIRE(result.exit_code == 0);
    return boost::json::parse(result.out).as_object();
}

// First line of a shell command's output; the test fails if the command fails.
std::string oracle(const std::string& command) {
    auto result = run_shell(command);
    INFO(command << ": " << result.err);
    REQUIRE(result.exit_code == 0);
    return result.out.substr(0, result.out.find('\n'));
}

bool have(const std::string& tool) {
    return run_shell("command -v " + tool + " >/dev/null 2>&1").exit_code == 0;
}

// systemd-detect-virt prints "none" with exit status 1 when there is nothing to detect.
std::string detect_virt(const std::string& option) {
    auto result = run({"systemd-detect-virt", option});
    return result.out.substr(0, result.out.find('\n'));
}

// Our names are systemd's, except for these.
std::string from_systemd_name(const std::string& name) {
    if (name == "oracle") return "virtualbox";
    if (name == "vm-other") return "other";
    if (name == "lxc-libvirt") return "lxc";
    return name;
}

}  // namespace

TEST_CASE("host: cpu, memory, names and kernel agree with the system's tools") {
    auto document = agent_inventory();
    const auto& system = document.at("system");
    const auto& os = document.at("os");

    CHECK(document.at("cpu").at("logical_cores").as_int64() == std::stoll(oracle("nproc")));
    CHECK(document.at("memory").at("total_bytes").as_int64() ==
          std::stoll(oracle("awk '/^MemTotal:/ {print $2}' /proc/meminfo")) * 1024);
    CHECK(system.at("hostname").as_string() == oracle("hostname"));
    CHECK(os.at("id").as_string() == oracle(". /etc/os-release; echo \"$ID\""));
    CHECK(os.at("version_id").as_string() == oracle(". /etc/os-release; echo \"$VERSION_ID\""));
    CHECK(os.at("pretty_name").as_string() == oracle(". /etc/os-release; echo \"$PRETTY_NAME\""));
    CHECK(os.at("kernel_release").as_string() == oracle("uname -r"));
    CHECK(os.at("kernel_name").as_string() == oracle("uname -s"));
    CHECK(os.at("arch").as_string() == oracle("uname -m"));
    CHECK(system.at("boot_id").as_string() == oracle("cat /proc/sys/kernel/random/boot_id"));
    if (std::filesystem::exists("/etc/machine-id"))
        CHECK(system.at("machine_id").as_string() == oracle("cat /etc/machine-id"));
    auto uptime = std::stoll(oracle("cut -d. -f1 /proc/uptime"));
    auto reported = system.at("uptime_seconds").as_int64();
    CHECK(reported <= uptime);
    CHECK(reported >= uptime - 600);  // the oracle ran after the agent; bound, not timing
}

TEST_CASE("host: container and virtualization agree with systemd-detect-virt") {
    if (!have("systemd-detect-virt")) {
        WARN("systemd-detect-virt is not installed; nothing to compare with");
        return;
    }
    auto system = agent_inventory().at("system");
    CHECK(system.at("container").as_string() == from_systemd_name(detect_virt("--container")));
    CHECK(system.at("virtualization").as_string() == from_systemd_name(detect_virt("--vm")));
}

TEST_CASE("host: in a container, the hardware identity is null") {
    auto document = agent_inventory();
    if (document.at("system").at("container") == "none") return;
    const auto& hardware = document.at("hardware");
    CHECK(hardware.at("serial").is_null());
    CHECK(hardware.at("product_uuid").is_null());
    CHECK(hardware.at("board").at("serial").is_null());
    CHECK(hardware.at("chassis").at("serial").is_null());
    CHECK(hardware.at("chassis").at("asset_tag").is_null());
}

TEST_CASE("an unprivileged agent reports the root-only DMI files it cannot read") {
    muster::test::temp_dir root;
    REQUIRE(::chmod(root.path().c_str(), 0755) == 0);
    auto dmi = std::filesystem::path(root.path()) / "sys/class/dmi/id";
    std::filesystem::create_directories(dmi);
    for (std::filesystem::path p = dmi; p != root.path(); p = p.parent_path())
        ::chmod(p.c_str(), 0755);
    auto attribute = [&](const std::string& name, const std::string& value, mode_t mode) {
        std::ofstream(dmi / name) << value << "\n";
        REQUIRE(::chmod((dmi / name).c_str(), mode) == 0);
    };
    attribute("sys_vendor", "Supermicro", 0444);
    attribute("product_serial", "S123456X9A01234", 0400);
    attribute("product_uuid", "4c4c4544-0042-3510-8052-b4c04f4d3732", 0400);

    std::vector<std::string> argv = {MUSTER_AGENT_BIN, "inventory", "--root", root.path()};
    if (::geteuid() == 0) {
        if (!have("setpriv")) {
            WARN("running as root without setpriv; cannot drop privileges");
            return;
        }
        argv.insert(argv.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                   "--inh-caps=-all"});
    }
    auto result = run(argv);
    REQUIRE(result.exit_code == 0);
    auto document = boost::json::parse(result.out).as_object();
    CHECK(document.at("hardware").at("vendor") == "Supermicro");
    CHECK(document.at("hardware").at("serial").is_null());
    CHECK(document.at("hardware").at("product_uuid").is_null());
    std::vector<std::string> denied;
    for (const auto& e : document.at("errors").as_array())
        if (e.at("section") == "hardware")
            denied.emplace_back(std::string(e.at("path").as_string()) + ": " +
                                std::string(e.at("reason").as_string()));
    CHECK(denied == std::vector<std::string>{
                        "/sys/class/dmi/id/product_serial: Permission denied",
                        "/sys/class/dmi/id/product_uuid: Permission denied",
                    });
}
