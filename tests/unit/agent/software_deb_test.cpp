// The deb source on a fixture dpkg database, with the real dpkg-query as the oracle.
#include "agent/inventory/software/sources.h"
#include "support/dpkg_oracle.h"
#include "support/process.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

using namespace muster::agent::inventory;
namespace fs = std::filesystem;

namespace {

const std::string fixture_root = MUSTER_FIXTURES "/software/debian";

using entry = muster::test::dpkg_entry;
using muster::test::dpkg_query_installed;

std::multiset<entry> as_entries(const std::vector<package>& packages) {
    std::multiset<entry> out;
    for (const auto& p : packages) out.emplace(p.name, p.version, p.arch);
    return out;
}

const package& find(const std::vector<package>& packages, std::string_view name,
                    std::string_view arch) {
    for (const auto& p : packages)
        if (p.name == name && p.arch == arch) return p;
    FAIL("package " << name << ":" << arch << " not listed");
    throw std::logic_error("unreachable");
}

std::string mtime_text(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return iso8601_utc(st.st_mtim.tv_sec);
}

}  // namespace

TEST_CASE("deb: installed packages of a fixture status equal dpkg-query's") {
    context ctx(fixture_root);
    error_list errors;
    std::vector<package> packages;
    read_deb_packages(ctx, errors, packages);
    CHECK(errors.entries().empty());

    auto expected = dpkg_query_installed(fixture_root + "/var/lib/dpkg");
    CHECK(expected.size() == 6);  // the oracle itself must see the fixture
    CHECK(as_entries(packages) == expected);
    for (const auto& p : packages) CHECK(p.source == "deb");
}

TEST_CASE("deb: removed, half-installed and purged packages are not listed") {
    context ctx(fixture_root);
    error_list errors;
    std::vector<package> packages;
    read_deb_packages(ctx, errors, packages);
    for (const auto& p : packages) {
        CHECK(p.name != "old-editor");
        CHECK(p.name != "broken-tool");
        CHECK(p.name != "half-configured-tool");
        CHECK(p.name != "purged-thing");
    }
}

TEST_CASE("deb: sizes, vendor, install time and versions as dpkg prints them") {
    context ctx(fixture_root);
    error_list errors;
    std::vector<package> packages;
    read_deb_packages(ctx, errors, packages);

    const auto& base = find(packages, "base-files", "amd64");
    CHECK(base.version == "12.4+deb12u5");
    CHECK(base.size_bytes == 391u * 1024);
    CHECK(base.vendor == "Debian");
    CHECK(base.installed_at == mtime_text(fixture_root + "/var/lib/dpkg/info/base-files.list"));

    const auto& libc_i386 = find(packages, "libc6", "i386");
    CHECK(libc_i386.size_bytes == 12418u * 1024);
    CHECK(libc_i386.installed_at ==
          mtime_text(fixture_root + "/var/lib/dpkg/info/libc6:i386.list"));
    CHECK_FALSE(libc_i386.vendor.has_value());

    CHECK(find(packages, "pinned-lib", "all").version == "1:2.0~beta3-0.1");
    CHECK(find(packages, "zero-epoch", "amd64").version == "3.1-2");
    const auto& native = find(packages, "native-pkg", "all");
    CHECK(native.version == "20230101");
    CHECK_FALSE(native.size_bytes.has_value());
    CHECK_FALSE(native.installed_at.has_value());
}

TEST_CASE("deb: a truncated status file gives one error and the packages before the cut") {
    std::ifstream in(fixture_root + "/var/lib/dpkg/status", std::ios::binary);
    std::string status((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto cut = status.find("Package: pinned-lib");
    REQUIRE(cut != std::string::npos);
    cut += std::string_view("Package: pinned-lib\nStatus: hold ok inst").size();

    muster::test::temp_dir root;
    fs::create_directories(root.path() + "/var/lib/dpkg");
    std::ofstream(root.path() + "/var/lib/dpkg/status", std::ios::binary) << status.substr(0, cut);

    context ctx(root.path());
    error_list errors;
    std::vector<package> packages;
    read_deb_packages(ctx, errors, packages);

    REQUIRE(errors.entries().size() == 1);
    const auto& e = errors.entries().front();
    CHECK(e.section == "software");
    CHECK(e.path == "/var/lib/dpkg/status");
    auto stanza_start = status.find("Package: pinned-lib");
    CHECK(e.reason == "corrupt at byte " + std::to_string(stanza_start) +
                          ": truncated stanza (the file ends inside it)");

    std::multiset<entry> before_cut{{"base-files", "12.4+deb12u5", "amd64"},
                                    {"libc6", "2.36-9+deb12u4", "amd64"},
                                    {"libc6", "2.36-9+deb12u4", "i386"}};
    CHECK(as_entries(packages) == before_cut);
}

TEST_CASE("deb: a line that is not a field is reported once and only its stanza is lost") {
    muster::test::temp_dir root;
    fs::create_directories(root.path() + "/var/lib/dpkg");
    std::ofstream(root.path() + "/var/lib/dpkg/status")
        << "Package: a\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n\n"
           "Package: b\nStatus: install ok installed\n\x01garbage\nVersion: 2\n\n"
           "Package: c\nStatus: install ok installed\nArchitecture: all\nVersion: 3\n\n";
    context ctx(root.path());
    error_list errors;
    std::vector<package> packages;
    read_deb_packages(ctx, errors, packages);
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries().front().reason == "corrupt at byte 110: line is not a field");
    CHECK(as_entries(packages) == std::multiset<entry>{{"a", "1", "all"}, {"c", "3", "all"}});
}

TEST_CASE("deb: no dpkg database is not an error") {
    context ctx(MUSTER_FIXTURES "/empty-root");
    error_list errors;
    std::vector<package> packages;
    read_deb_packages(ctx, errors, packages);
    CHECK(packages.empty());
    CHECK(errors.entries().empty());
}
