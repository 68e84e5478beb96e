// Section "memory" on the fixture trees and on broken meminfo files; and a whole document
// still produced when one proc file is garbage.
#include "agent/inventory/collectors.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace muster::agent::inventory;
namespace fs = std::filesystem;

namespace {

std::string fixture(const char* name) {
    return std::string(MUSTER_FIXTURES "/roots/") + name;
}

boost::json::object memory_of(const std::string& root, error_list& errors) {
    return collect_memory(context(root), errors).as_object();
}

void write(const std::string& root, const std::string& path, const std::string& content) {
    fs::path full = fs::path(root) / path.substr(1);
    fs::create_directories(full.parent_path());
    std::ofstream(full, std::ios::binary) << content;
}

boost::json::object memory(boost::json::value total, boost::json::value available,
                           boost::json::value swap_total, boost::json::value swap_free) {
    return {{"total_bytes", total},
            {"available_bytes", available},
            {"swap_total_bytes", swap_total},
            {"swap_free_bytes", swap_free}};
}

}  // namespace

TEST_CASE("fixture trees: kB values times 1024") {
    error_list errors;
    CHECK(memory_of(fixture("server"), errors) ==
          memory(49152000ull * 1024, 40000000ull * 1024, 8388604ull * 1024, 8388000ull * 1024));
    CHECK(memory_of(fixture("vm"), errors) ==
          memory(8008564ull * 1024, 7000000ull * 1024, 2097148ull * 1024, 2097148ull * 1024));
    CHECK(memory_of(fixture("container"), errors) ==
          memory(65859200ull * 1024, 30000000ull * 1024, 0, 0));
    CHECK(memory_of(fixture("debian"), errors) ==
          memory(32768000ull * 1024, 28000000ull * 1024, 1000444ull * 1024, 1000444ull * 1024));
    CHECK(errors.entries().empty());
}

TEST_CASE("an old kernel without MemAvailable: that field alone is null") {
    muster::test::temp_dir root;
    write(root.path(), "/proc/meminfo",
          "MemTotal:        1024 kB\nMemFree:  512 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n");
    error_list errors;
    CHECK(memory_of(root.path(), errors) == memory(1024 * 1024, nullptr, 0, 0));
    CHECK(errors.entries().empty());
}

TEST_CASE("binary garbage in /proc/meminfo is one error entry and nulls") {
    muster::test::temp_dir root;
    write(root.path(), "/proc/meminfo", std::string("MemTotal: 1\0\0\x7f garbage", 21));
    error_list errors;
    CHECK(memory_of(root.path(), errors) == memory(nullptr, nullptr, nullptr, nullptr));
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries()[0].section == "memory");
    CHECK(errors.entries()[0].path == "/proc/meminfo");
    CHECK(errors.entries()[0].reason == "corrupt at byte 11: not text");
}

TEST_CASE("garbage in one proc file: an errors entry naming it, the rest of the document intact") {
    muster::test::temp_dir root;
    fs::copy(fixture("server"), root.path(),
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    std::string garbage;
    for (int i = 0; i < 512; ++i) garbage += static_cast<char>((i * 131) % 256);
    write(root.path(), "/proc/cpuinfo", garbage);
    write(root.path(), "/proc/meminfo", garbage);

    auto document = collect_inventory(context(root.path()));
    CHECK(document.at("cpu").at("logical_cores").is_null());
    CHECK(document.at("memory").at("total_bytes").is_null());
    CHECK(document.at("system").at("hostname") == "db01");
    CHECK(document.at("hardware").at("serial") == "S123456X9A01234");
    CHECK(document.at("os").at("id") == "ubuntu");
    std::vector<std::string> corrupt;
    for (const auto& e : document.at("errors").as_array())
        if (e.at("reason").as_string().starts_with("corrupt"))
            corrupt.emplace_back(e.at("section").as_string().c_str() + std::string(" ") +
                                 e.at("path").as_string().c_str());
    CHECK(corrupt == std::vector<std::string>{"cpu /proc/cpuinfo", "memory /proc/meminfo"});
}
