#include "agent/inventory/collectors.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <fstream>

using namespace muster::agent::inventory;

namespace {
std::vector<std::string> mountpoints(const boost::json::array& filesystems) {
    std::vector<std::string> out;
    for (const auto& f : filesystems) out.emplace_back(f.at("mountpoint").as_string());
    return out;
}
const boost::json::object* at_mountpoint(const boost::json::array& filesystems,
                                         std::string_view mountpoint) {
    for (const auto& f : filesystems)
        if (f.at("mountpoint").as_string() == mountpoint) return &f.as_object();
    return nullptr;
}
}  // namespace

TEST_CASE("filesystems: the debian fixture, pseudo filesystems left out, in mount order") {
    error_list errors;
    auto fs = collect_filesystems(context(MUSTER_FIXTURES "/roots/debian"), errors).as_array();
    CHECK(errors.entries().empty());
    CHECK(mountpoints(fs) == std::vector<std::string>{"/", "/boot/efi", "/srv/my data", "/tmp",
                                                      "/mnt/backup", "/mnt/nfs"});
}

TEST_CASE("filesystems: fields, escapes decoded, no sizes under a fixture root") {
    error_list errors;
    auto fs = collect_filesystems(context(MUSTER_FIXTURES "/roots/debian"), errors).as_array();
    const auto* data = at_mountpoint(fs, "/srv/my data");
    REQUIRE(data);
    CHECK(*data == boost::json::object{{"mountpoint", "/srv/my data"},
                                       {"device", "/dev/mapper/vg0-data"},
                                       {"type", "xfs"},
                                       {"total_bytes", nullptr},
                                       {"free_bytes", nullptr},
                                       {"read_only", false}});
    REQUIRE(at_mountpoint(fs, "/mnt/backup"));
    CHECK(at_mountpoint(fs, "/mnt/backup")->at("read_only") == true);
    CHECK(at_mountpoint(fs, "/mnt/nfs")->at("device") == "fileserver:/export");
}

TEST_CASE("filesystems: a container keeps its overlay root and bind mounts") {
    error_list errors;
    auto fs = collect_filesystems(context(MUSTER_FIXTURES "/roots/container"), errors).as_array();
    CHECK(errors.entries().empty());
    CHECK(mountpoints(fs) == std::vector<std::string>{"/", "/etc/resolv.conf", "/data"});
    CHECK(fs[0].at("type") == "overlay");
    CHECK(fs[2].at("read_only") == true);
}

TEST_CASE("filesystems: /proc/mounts is the fallback, corrupt lines are reported once") {
    muster::test::temp_dir root;
    std::filesystem::create_directories(root.path() + "/proc");
    std::ofstream(root.path() + "/proc/mounts") << "/dev/sda1 / ext4 rw,relatime 0 0\n"
                                                   "garbage\n"
                                                   "proc /proc proc rw 0 0\n"
                                                   "/dev/sdb1 /a\\134b\\011c ext4 ro 0 0\n"
                                                   "also garbage\n";
    error_list errors;
    auto fs = collect_filesystems(context(root.path()), errors).as_array();
    CHECK(mountpoints(fs) == std::vector<std::string>{"/", "/a\\b\tc"});
    CHECK(fs[1].at("read_only") == true);
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries()[0].path == "/proc/mounts");
    CHECK(errors.entries()[0].reason == "corrupt at line 2: too few fields");
}

TEST_CASE("filesystems: no mount table at all is one error") {
    error_list errors;
    auto fs = collect_filesystems(context(MUSTER_FIXTURES "/empty-root"), errors);
    CHECK(fs.as_array().empty());
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries()[0].path == "/proc/mounts");
}

TEST_CASE("filesystems: live sizes of / agree with df") {
    error_list errors;
    auto fs = collect_filesystems(context("/"), errors).as_array();
    const auto* root = at_mountpoint(fs, "/");
    REQUIRE(root);
    auto df = muster::test::run({"df", "-B1", "--output=size", "/"});
    REQUIRE(df.exit_code == 0);
    auto size = df.out.substr(df.out.find('\n') + 1);
    CHECK(root->at("total_bytes").to_number<std::uint64_t>() == std::stoull(size));
    CHECK(root->at("free_bytes").is_uint64());
}
