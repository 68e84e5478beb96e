// Section "os": os-release parsing (shell quoting) and the kernel files of the fixture trees.
#include "agent/inventory/collectors.h"
#include "agent/inventory/os_release.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace muster::agent::inventory;

namespace {

std::string fixture(const char* name) {
    return std::string(MUSTER_FIXTURES "/roots/") + name;
}

boost::json::object os_of(const std::string& root, error_list& errors) {
    return collect_os(context(root), errors).as_object();
}

}  // namespace

TEST_CASE("server: Ubuntu with ID_LIKE and an architecture file") {
    error_list errors;
    auto os = os_of(fixture("server"), errors);
    CHECK(os == boost::json::object{
                    {"id", "ubuntu"},
                    {"id_like", "debian"},
                    {"name", "Ubuntu"},
                    {"version_id", "22.04"},
                    {"pretty_name", "Ubuntu 22.04.4 LTS"},
                    {"kernel_name", "Linux"},
                    {"kernel_release", "5.15.0-101-generic"},
                    {"kernel_version", "#111-Ubuntu SMP Tue Mar 5 20:16:58 UTC 2024"},
                    {"arch", "x86_64"},
                });
    CHECK(errors.entries().empty());
}

TEST_CASE("vm: /usr/lib/os-release when /etc/os-release is absent") {
    error_list errors;
    auto os = os_of(fixture("vm"), errors);
    CHECK(os.at("id") == "almalinux");
    CHECK(os.at("id_like") == "rhel centos fedora");
    CHECK(os.at("name") == "AlmaLinux");
    CHECK(os.at("version_id") == "9.3");
    CHECK(os.at("pretty_name") == "AlmaLinux 9.3 (Shamrock Pampas Cat)");
    CHECK(os.at("kernel_release") == "5.14.0-362.8.1.el9_3.x86_64");
    CHECK(os.at("arch") == "x86_64");
    CHECK(errors.entries().empty());
}

TEST_CASE("container: Alpine with unquoted values") {
    error_list errors;
    auto os = os_of(fixture("container"), errors);
    CHECK(os.at("id") == "alpine");
    CHECK(os.at("id_like").is_null());
    CHECK(os.at("name") == "Alpine Linux");
    CHECK(os.at("version_id") == "3.19.1");
    CHECK(os.at("pretty_name") == "Alpine Linux v3.19");
    CHECK(os.at("kernel_name") == "Linux");
    CHECK(os.at("kernel_release") == "6.1.0-18-amd64");
}

TEST_CASE("debian: no /proc/sys/kernel/arch means a null arch, silently") {
    error_list errors;
    auto os = os_of(fixture("debian"), errors);
    CHECK(os.at("id") == "debian");
    CHECK(os.at("id_like").is_null());
    CHECK(os.at("name") == "Debian GNU/Linux");
    CHECK(os.at("version_id") == "12");
    CHECK(os.at("pretty_name") == "Debian GNU/Linux 12 (bookworm)");
    CHECK(os.at("kernel_version") == "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)");
    CHECK(os.at("arch").is_null());
    CHECK(errors.entries().empty());
}

TEST_CASE("an empty root: all null, os-release reported absent") {
    muster::test::temp_dir root;
    error_list errors;
    auto os = os_of(root.path(), errors);
    for (const auto& [key, value] : os) CHECK(value.is_null());
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries()[0].path == "/etc/os-release");
}

TEST_CASE("os-release values are unquoted like shell words") {
    auto values = parse_os_release(
        "# comment\n"
        "NAME=\"Some \\\"Quoted\\\" \\$Name\\\\\"\n"
        "ID='single $quoted'\n"
        "VERSION_ID=1.2\\ beta\n"
        "  PRETTY_NAME=\"A\"'B'C  # trailing comment\n"
        "BROKEN LINE\n"
        "9BAD=x\n"
        "EMPTY=\n"
        "UNCLOSED=\"abc\n"
        "KEEP=\"back\\slash\"\n");
    CHECK(values.at("NAME") == "Some \"Quoted\" $Name\\");
    CHECK(values.at("ID") == "single $quoted");
    CHECK(values.at("VERSION_ID") == "1.2 beta");
    CHECK(values.at("PRETTY_NAME") == "ABC");
    CHECK(values.at("EMPTY").empty());
    CHECK(values.at("UNCLOSED") == "abc");
    CHECK(values.at("KEEP") == "back\\slash");
    CHECK_FALSE(values.contains("9BAD"));
    CHECK(values.size() == 7);
}

TEST_CASE("the live kernel fields come from uname") {
    error_list errors;
    auto os = collect_os(context("/"), errors).as_object();
    auto uname_r = muster::test::run({"uname", "-r"});
    auto uname_m = muster::test::run({"uname", "-m"});
    REQUIRE(uname_r.exit_code == 0);
    CHECK(os.at("kernel_release").as_string() == uname_r.out.substr(0, uname_r.out.find('\n')));
    CHECK(os.at("arch").as_string() == uname_m.out.substr(0, uname_m.out.find('\n')));
}
