// The apk, pacman, snap and flatpak sources on fixture trees.
#include "agent/inventory/software/sources.h"
#include "support/process.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <tuple>

using namespace muster::agent::inventory;
namespace fs = std::filesystem;

namespace {

// name, version, arch, installed_at, size_bytes
using entry = std::tuple<std::string, std::string, std::string, std::optional<std::string>,
                         std::optional<std::uint64_t>>;

struct read_result {
    std::vector<package> packages;
    error_list errors;
};

read_result read(package_source_fn source, const std::string& root) {
    read_result r;
    source(context(root), r.errors, r.packages);
    return r;
}

std::set<entry> as_entries(const std::vector<package>& packages, std::string_view source) {
    std::set<entry> out;
    for (const auto& p : packages) {
        CHECK(p.source == source);
        CHECK_FALSE(p.vendor.has_value());
        out.emplace(p.name, p.version, p.arch, p.installed_at, p.size_bytes);
    }
    return out;
}

std::string mtime_text(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return iso8601_utc(st.st_mtim.tv_sec);
}

void write(const std::string& path, std::string_view content) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << content;
}

}  // namespace

TEST_CASE("apk: the packages of an Alpine installed database") {
    auto r = read(read_apk_packages, MUSTER_FIXTURES "/roots/alpine");
    CHECK(r.errors.entries().empty());
    CHECK(as_entries(r.packages, "apk") ==
          std::set<entry>{
              {"musl", "1.2.4-r2", "x86_64", std::nullopt, 622592},
              {"busybox", "1.36.1-r5", "x86_64", std::nullopt, 950272},
              {"alpine-baselayout-data", "3.4.3-r1", "x86_64", std::nullopt, 77824},
              {"ca-certificates-bundle", "20230506-r0", "x86_64", std::nullopt, 225280},
          });
}

TEST_CASE("apk: a truncated database gives one error and the complete entries") {
    muster::test::temp_dir root;
    write(root.path() + "/lib/apk/db/installed",
          "P:musl\nV:1.2.4-r2\nA:x86_64\nI:622592\n\nP:busybox\nV:1.36");
    auto r = read(read_apk_packages, root.path());
    REQUIRE(r.errors.entries().size() == 1);
    CHECK(r.errors.entries().front().path == "/lib/apk/db/installed");
    CHECK(r.errors.entries().front().reason ==
          "corrupt at byte 37: truncated package entry (the file ends inside it)");
    REQUIRE(r.packages.size() == 1);
    CHECK(r.packages.front().name == "musl");
}

TEST_CASE("pacman: the packages of an Arch local database") {
    auto r = read(read_pacman_packages, MUSTER_FIXTURES "/roots/arch");
    CHECK(r.errors.entries().empty());
    CHECK(as_entries(r.packages, "pacman") ==
          std::set<entry>{
              {"bash", "5.2.026-2", "x86_64", "2024-03-21T17:13:32Z", 9252495},
              {"iana-etc", "20240305-1", "any", "2024-03-21T17:13:30Z", 3925556},
              {"libpipeline", "1:1.5.7-2", "x86_64", "2024-03-21T17:13:35Z", 128314},
          });
}

TEST_CASE("pacman: a package directory without a valid desc is one error of its own") {
    muster::test::temp_dir root;
    auto local = root.path() + "/var/lib/pacman/local";
    write(local + "/ok-1-1/desc", "%NAME%\nok\n\n%VERSION%\n1-1\n\n%ARCH%\nany\n\n");
    write(local + "/garbled-1-1/desc",
          "\x7f"
          "ELF binary junk\n");
    fs::create_directories(local + "/nodesc-1-1");
    auto r = read(read_pacman_packages, root.path());
    REQUIRE(r.errors.entries().size() == 2);
    CHECK(r.errors.entries()[0].path == "/var/lib/pacman/local/garbled-1-1/desc");
    CHECK(r.errors.entries()[0].reason == "corrupt at byte 17: desc without %NAME% or %VERSION%");
    CHECK(r.errors.entries()[1].path == "/var/lib/pacman/local/nodesc-1-1/desc");
    CHECK(r.errors.entries()[1].reason == "No such file or directory");
    REQUIRE(r.packages.size() == 1);
    CHECK(r.packages.front().name == "ok");
}

TEST_CASE("snap: the active revision of every mounted snap") {
    const std::string root = MUSTER_FIXTURES "/software/snap";
    auto r = read(read_snap_packages, root);
    CHECK(r.errors.entries().empty());
    auto snaps = root + "/var/lib/snapd/snaps/";
    CHECK(as_entries(r.packages, "snap") ==
          std::set<entry>{
              {"core22", "20231123", "amd64", mtime_text(snaps + "core22_1033.snap"), 4096},
              {"hello-world", "6.4", "all", mtime_text(snaps + "hello-world_29.snap"), 20480},
          });
}

TEST_CASE("snap: a snap.yaml that is not YAML is one error, the other snaps are listed") {
    muster::test::temp_dir root;
    write(root.path() + "/snap/good/1/meta/snap.yaml", "name: good\nversion: '1.0'\n");
    write(root.path() + "/snap/bad/7/meta/snap.yaml", "name: [unclosed\n");
    fs::create_directory_symlink("1", root.path() + "/snap/good/current");
    fs::create_directory_symlink("7", root.path() + "/snap/bad/current");
    auto r = read(read_snap_packages, root.path());
    REQUIRE(r.errors.entries().size() == 1);
    CHECK(r.errors.entries().front().path == "/snap/bad/current/meta/snap.yaml");
    CHECK_THAT(r.errors.entries().front().reason, Catch::StartsWith("corrupt: "));
    REQUIRE(r.packages.size() == 1);
    CHECK(r.packages.front().name == "good");
    CHECK(r.packages.front().version == "1.0");
}

TEST_CASE("flatpak: deployed applications and runtimes of the system installation") {
    const std::string root = MUSTER_FIXTURES "/software/flatpak";
    auto r = read(read_flatpak_packages, root);
    CHECK(r.errors.entries().empty());
    auto deploy = [&](const std::string& ref) {
        return mtime_text(root + "/var/lib/flatpak/" + ref + "/active/deploy");
    };
    CHECK(as_entries(r.packages, "flatpak") ==
          std::set<entry>{
              {"org.gnome.Calculator", "45.0.2", "x86_64",
               deploy("app/org.gnome.Calculator/x86_64/stable"), std::nullopt},
              {"org.gnome.Platform", "45", "x86_64", deploy("runtime/org.gnome.Platform/x86_64/45"),
               std::nullopt},
              {"org.gnome.Platform", "45", "aarch64",
               deploy("runtime/org.gnome.Platform/aarch64/45"), std::nullopt},
          });
}

TEST_CASE("apk, pacman, snap, flatpak: nothing installed is not an error") {
    for (auto source :
         {read_apk_packages, read_pacman_packages, read_snap_packages, read_flatpak_packages}) {
        auto r = read(source, MUSTER_FIXTURES "/empty-root");
        CHECK(r.packages.empty());
        CHECK(r.errors.entries().empty());
    }
}
