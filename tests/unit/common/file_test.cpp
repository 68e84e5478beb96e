#include "common/file.h"
#include "support/process.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

TEST_CASE("read_file reports absence and enforces its size cap") {
    muster::test::temp_dir dir;
    auto missing = muster::read_file(dir.path() + "/nope");
    REQUIRE(missing.has_error());
    CHECK(missing.error() == std::errc::no_such_file_or_directory);

    auto path = dir.path() + "/f";
    REQUIRE(muster::write_file_atomic(path, "0123456789"));
    CHECK(*muster::read_file(path) == "0123456789");
    auto capped = muster::read_file(path, 5);
    REQUIRE(capped.has_error());
    CHECK(capped.error() == std::errc::file_too_large);
}

TEST_CASE("write_file_atomic creates files 0600 by default") {
    muster::test::temp_dir dir;
    auto path = dir.path() + "/secret";
    REQUIRE(muster::write_file_atomic(path, "key"));
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("trim removes whitespace and NUL padding") {
    CHECK(muster::trim(std::string_view("  a b\n\0", 7)) == "a b");
}
