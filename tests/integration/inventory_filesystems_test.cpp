// The filesystems section of the live system against findmnt, the util-linux oracle.
//
// The test carries its own copy of the documented filter (agent/inventory/filesystems.cpp
// header) so that a bug in the collector's filter shows up as a difference.
#include "agent/inventory/collectors.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <sstream>
#include <tuple>

using namespace muster::agent::inventory;

namespace {

using mount_key = std::tuple<std::string, std::string, std::string>;  // target, source, type

bool under(const std::string& path, const std::string& dir) {
    return path == dir || path.starts_with(dir + "/");
}

bool expected_left_out(const std::string& target, const std::string& type) {
    static const std::set<std::string> pseudo = {
        "proc",       "sysfs",   "cgroup",    "cgroup2",    "devpts",      "devtmpfs",
        "mqueue",     "debugfs", "tracefs",   "securityfs", "pstore",      "bpf",
        "configfs",   "fusectl", "hugetlbfs", "autofs",     "binfmt_misc", "efivarfs",
        "rpc_pipefs", "nsfs",    "selinuxfs", "ramfs"};
    if (pseudo.contains(type) || under(target, "/proc") || under(target, "/sys")) return true;
    if (type == "tmpfs" && (under(target, "/dev") || under(target, "/run"))) return true;
    return type == "squashfs" && target.starts_with("/snap/");
}

std::multiset<mount_key> from_findmnt() {
    // JSON output carries the mountpoints decoded, as the collector reports them.
    auto result = muster::test::run({"findmnt", "-J", "-l", "-o", "TARGET,SOURCE,FSTYPE"});
    REQUIRE(result.exit_code == 0);
    auto listed = boost::json::parse(result.out);
    std::multiset<mount_key> out;
    for (const auto& m : listed.at("filesystems").as_array()) {
        std::string target(m.at("target").as_string());
        std::string source =
            m.at("source").is_null() ? "" : std::string(m.at("source").as_string());
        std::string type(m.at("fstype").as_string());
        // btrfs subvolumes and bind mounts: findmnt appends "[/path]" to the source.
        if (auto bracket = source.find('['); bracket != std::string::npos && source.ends_with("]"))
            source.erase(bracket);
        if (!expected_left_out(target, type)) out.insert({target, source, type});
    }
    return out;
}

}  // namespace

TEST_CASE("filesystems: every real findmnt mount appears with the same device and type") {
    error_list errors;
    auto ours = collect_filesystems(context("/"), errors).as_array();
    for (const auto& e : errors.entries()) UNSCOPED_INFO(e.path << ": " << e.reason);
    CHECK(errors.entries().empty());

    std::multiset<mount_key> collected;
    for (const auto& f : ours) {
        std::string device =
            f.at("device").is_null() ? "" : std::string(f.at("device").as_string());
        collected.insert({std::string(f.at("mountpoint").as_string()), device,
                          std::string(f.at("type").as_string())});
    }
    auto expected = from_findmnt();
    for (const auto& [target, source, type] : expected)
        UNSCOPED_INFO("findmnt: " << target << " " << source << " " << type);
    for (const auto& [target, source, type] : collected)
        UNSCOPED_INFO("ours:    " << target << " " << source << " " << type);
    CHECK(collected == expected);
    CHECK(!expected.empty());  // at least the root filesystem
}

TEST_CASE("filesystems: read_only agrees with findmnt's options") {
    error_list errors;
    auto ours = collect_filesystems(context("/"), errors).as_array();
    for (const auto& f : ours) {
        std::string target(f.at("mountpoint").as_string());
        auto result = muster::test::run({"findmnt", "-n", "-o", "OPTIONS", "--mountpoint", target});
        REQUIRE(result.exit_code == 0);
        // the last mount at a target wins in findmnt --mountpoint, as it is the visible one
        std::istringstream lines(result.out);
        std::string options, line;
        while (std::getline(lines, line)) options = line;
        bool ro = options == "ro" || options.starts_with("ro,");
        INFO(target << " options " << options);
        CHECK(f.at("read_only") == ro);
    }
}
