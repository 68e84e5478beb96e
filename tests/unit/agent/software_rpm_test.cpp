// The rpm source on an rpm database built at test time by the real rpm tools, with the real
// `rpm -qa` as the oracle; then the same database with garbled header blobs.
#include "agent/inventory/software/rpm_header.h"
#include "agent/inventory/software/sources.h"
#include "support/process.h"

#include <sqlite3.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <sstream>
#include <tuple>
#include <vector>

using namespace muster::agent::inventory;

namespace {

// name, version, arch, vendor ("(none)" when unset), installed_at, size
using entry =
    std::tuple<std::string, std::string, std::string, std::string, std::string, std::string>;

struct rpm_root {
    muster::test::temp_dir work;
    std::string root = work.path() + "/root";
    std::string db = root + "/var/lib/rpm/rpmdb.sqlite";
    rpm_root() {
        auto built = muster::test::run(
            {MUSTER_FIXTURES "/software/make-rpmdb.sh", work.path() + "/build", root});
        INFO(built.err);
        REQUIRE(built.exit_code == 0);
    }
    void sql(const std::string& statement) const {
        auto result = muster::test::run({"sqlite3", db, statement});
        INFO(result.err);
        REQUIRE(result.exit_code == 0);
    }
};

std::set<entry> rpm_qa(const std::string& root) {
    auto result = muster::test::run(
        {"rpm", "--root", root, "--dbpath", "/var/lib/rpm", "-qa", "--qf",
         "%{NAME}\\t%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{VENDOR}\\t"
         "%{INSTALLTIME}\\t%{LONGSIZE}\\n"});
    REQUIRE(result.exit_code == 0);
    std::set<entry> out;
    std::istringstream lines(result.out);
    std::string line;
    while (std::getline(lines, line)) {
        std::vector<std::string> f;
        std::istringstream fields(line);
        for (std::string field; std::getline(fields, field, '\t');) f.push_back(field);
        REQUIRE(f.size() == 6);
        out.emplace(f[0], f[1], f[2], f[3], iso8601_utc(std::stoll(f[4])), f[5]);
    }
    return out;
}

std::set<entry> as_entries(const std::vector<package>& packages) {
    std::set<entry> out;
    for (const auto& p : packages)
        out.emplace(p.name, p.version, p.arch, p.vendor.value_or("(none)"),
                    p.installed_at.value_or("?"),
                    p.size_bytes ? std::to_string(*p.size_bytes) : "?");
    return out;
}

struct read_result {
    std::vector<package> packages;
    error_list errors;
};

read_result read_root(const std::string& root) {
    read_result r;
    read_rpm_packages(context(root), r.errors, r.packages);
    return r;
}

std::vector<unsigned char> first_blob(const std::string& db_path) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> owner(db, sqlite3_close);
    sqlite3_stmt* statement = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT blob FROM Packages ORDER BY hnum LIMIT 1", -1,
                               &statement, nullptr) == SQLITE_OK);
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> s(statement, sqlite3_finalize);
    REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
    auto* data = static_cast<const unsigned char*>(sqlite3_column_blob(statement, 0));
    return {data, data + sqlite3_column_bytes(statement, 0)};
}

}  // namespace

TEST_CASE("rpm: every package of a real rpmdb, as rpm -qa prints it") {
    rpm_root fixture;
    auto expected = rpm_qa(fixture.root);
    REQUIRE(expected.size() == 4);
    auto r = read_root(fixture.root);
    CHECK(r.errors.entries().empty());
    CHECK(as_entries(r.packages) == expected);
    for (const auto& p : r.packages) CHECK(p.source == "rpm");

    // The interesting versions, spelled out so the test does not only trust the oracle.
    std::set<std::string> versions;
    for (const auto& p : r.packages) versions.insert(p.name + " " + p.version);
    CHECK(versions == std::set<std::string>{"alpha 2:1.2~rc1-3", "beta 4.0^git5-1.el9",
                                            "gamma 0:1.0-1", "delta-tools 10.1-2.fc39"});
}

TEST_CASE("rpm: a truncated and a garbled blob give one error, the others are listed") {
    rpm_root fixture;
    auto all = read_root(fixture.root).packages;
    REQUIRE(all.size() == 4);

    fixture.sql("UPDATE Packages SET blob = substr(blob, 1, 100) WHERE hnum = 2");
    fixture.sql("UPDATE Packages SET blob = X'7fffffff' || substr(blob, 5) WHERE hnum = 3");
    auto r = read_root(fixture.root);

    REQUIRE(r.errors.entries().size() == 1);
    const auto& e = r.errors.entries().front();
    CHECK(e.section == "software");
    CHECK(e.path == "/var/lib/rpm/rpmdb.sqlite");
    CHECK_THAT(e.reason, Catch::StartsWith("corrupt at byte 100: package 2: header needs "));
    CHECK_THAT(e.reason, Catch::EndsWith("bytes, the blob has 100 (and 1 more problems)"));
    REQUIRE(r.packages.size() == 2);
    CHECK(r.packages[0].name == all[0].name);
    CHECK(r.packages[1].name == all[3].name);
}

TEST_CASE("rpm: no header prefix or single flipped byte crashes the parser") {
    rpm_root fixture;
    auto blob = first_blob(fixture.db);
    REQUIRE(std::holds_alternative<rpm_header>(parse_rpm_header(blob)));
    std::size_t failures = 0;
    for (std::size_t n = 0; n < blob.size(); ++n)
        failures +=
            std::holds_alternative<rpm_header_problem>(parse_rpm_header(std::span(blob).first(n)));
    CHECK(failures == blob.size());  // every strict prefix is refused
    for (std::size_t i = 0; i < blob.size(); ++i) {
        auto garbled = blob;
        garbled[i] ^= 0xff;
        (void)parse_rpm_header(garbled);  // any outcome but a crash (ASan/UBSan builds)
    }
}

TEST_CASE("rpm: a file that is not a database is one error") {
    muster::test::temp_dir root;
    std::filesystem::create_directories(root.path() + "/var/lib/rpm");
    muster::test::run_shell("head -c 4096 /dev/urandom > '" + root.path() +
                            "/var/lib/rpm/rpmdb.sqlite'");
    auto r = read_root(root.path());
    CHECK(r.packages.empty());
    REQUIRE(r.errors.entries().size() == 1);
    CHECK(r.errors.entries().front().path == "/var/lib/rpm/rpmdb.sqlite");
    CHECK(r.errors.entries().front().reason == "file is not a database");
}

TEST_CASE("rpm: Berkeley DB and ndb databases are reported as not supported yet") {
    muster::test::temp_dir root;
    std::filesystem::create_directories(root.path() + "/var/lib/rpm");
    muster::test::run_shell("touch '" + root.path() + "/var/lib/rpm/Packages'");
    auto r = read_root(root.path());
    REQUIRE(r.errors.entries().size() == 1);
    CHECK(r.errors.entries().front().path == "/var/lib/rpm/Packages");
    CHECK(r.errors.entries().front().reason == "rpm database backend bdb is not supported yet");

    muster::test::run_shell("touch '" + root.path() + "/var/lib/rpm/Packages.db'");
    r = read_root(root.path());
    REQUIRE(r.errors.entries().size() == 1);
    CHECK(r.errors.entries().front().reason == "rpm database backend ndb is not supported yet");
}

TEST_CASE("rpm: no rpm database is not an error") {
    auto r = read_root(MUSTER_FIXTURES "/empty-root");
    CHECK(r.packages.empty());
    CHECK(r.errors.entries().empty());
}
