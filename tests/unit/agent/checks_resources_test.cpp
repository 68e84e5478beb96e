// disk_usage and inode_usage against real filesystems (df is the oracle; a
// tmpfs of a known size when the test may mount one), memory_available,
// swap_used and load_per_core against /proc files written with known figures,
// and against the real /proc.
#include "checks_support.h"
#include "common/file.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace checks_test;
using muster::test::run;
using muster::test::temp_dir;

namespace {

// df's Use% or IUse% of path, a whole number rounded up as df does.
int df_percent(const std::string& path, const std::string& field) {
    auto r = run({"df", "--output=" + field, path});
    REQUIRE(r.exit_code == 0);
    std::istringstream lines(r.out);
    std::string header, value;
    std::getline(lines, header);
    lines >> value;
    REQUIRE(!value.empty());
    if (value == "-") return -1;
    return std::stoi(value.substr(0, value.size() - 1));
}

std::string disk_item(const std::string& type, const std::string& path,
                      const std::string& more = "") {
    return "    id: d\n    type: " + type + "\n    path: " + path + "\n" + more;
}

// A tmpfs of 4 MiB with 64 inodes, mounted for the test; unmounted at the end.
// Empty when this process may not mount (not root).
struct small_tmpfs {
    temp_dir dir;
    bool mounted = false;
    small_tmpfs() {
        mounted = ::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=4m,nr_inodes=64") == 0;
    }
    ~small_tmpfs() {
        if (mounted) ::umount2(dir.path().c_str(), MNT_DETACH);
    }
};

void write_file(const std::string& path, std::size_t bytes) {
    std::ofstream out(path, std::ios::binary);
    std::string chunk(64 * 1024, 'x');
    for (std::size_t done = 0; done < bytes; done += chunk.size())
        out.write(chunk.data(), static_cast<std::streamsize>(std::min(chunk.size(), bytes - done)));
}

// A fixture root with these /proc and /sys files.
struct proc_root {
    temp_dir dir;
    void put(const std::string& path, const std::string& text) {
        std::filesystem::create_directories(std::filesystem::path(dir.path() + path).parent_path());
        std::ofstream(dir.path() + path) << text;
    }
};

}  // namespace

TEST_CASE("disk_usage and inode_usage agree with df on the real mounts") {
    for (std::string path : {"/", "/tmp", "/proc"}) {
        INFO(path);
        auto disk =
            run_check(disk_item("disk_usage", path, "    warning: 100\n    critical: 100\n"));
        int df = df_percent(path, "pcent");
        if (df < 0) {
            CHECK(status_of(disk) == "unknown");  // a filesystem without a size
        } else {
            REQUIRE(disk.outcome.value);
            // df rounds up; the filesystem may change a little between the two
            // readings.
            CHECK(std::abs(std::ceil(*disk.outcome.value) - df) <= 1);
            CHECK(disk.outcome.unit == "%");
            CHECK(disk.outcome.message.starts_with(path + " is "));
        }
        auto inodes =
            run_check(disk_item("inode_usage", path, "    warning: 100\n    critical: 100\n"));
        int idf = df_percent(path, "ipcent");
        if (idf < 0) {
            CHECK(status_of(inodes) == "ok");
            CHECK(!inodes.outcome.value);
        } else {
            REQUIRE(inodes.outcome.value);
            CHECK(std::abs(std::ceil(*inodes.outcome.value) - idf) <= 1);
        }
    }
}

TEST_CASE(
    "disk_usage crosses its thresholds on a filesystem filled to a known "
    "level") {
    small_tmpfs fs;
    if (!fs.mounted) {
        WARN("not allowed to mount a tmpfs here: the threshold test uses / instead");
        auto root = run_check(disk_item("disk_usage", "/", "    warning: 0\n    critical: 0\n"));
        CHECK(status_of(root) == "critical");
        CHECK(root.outcome.message.find("(critical at 0%)") != std::string::npos);
        return;
    }
    auto item = disk_item("disk_usage", fs.dir.path(), "    warning: 40\n    critical: 70\n");
    auto empty = run_check(item);
    CHECK(status_of(empty) == "ok");
    CHECK(*empty.outcome.value == 0);
    write_file(fs.dir.path() + "/a", 2 << 20);  // half of 4 MiB
    auto half = run_check(item);
    CHECK(status_of(half) == "warning");
    CHECK(*half.outcome.value == Approx(50).margin(0.5));
    CHECK(half.outcome.message == fs.dir.path() + " is " +
                                      checks::format_number(*half.outcome.value) +
                                      "% full (warning at 40%)");
    CHECK(std::ceil(*half.outcome.value) == df_percent(fs.dir.path(), "pcent"));
    write_file(fs.dir.path() + "/b", 1 << 20);
    auto three_quarters = run_check(item);
    CHECK(status_of(three_quarters) == "critical");
    CHECK(*three_quarters.outcome.value == Approx(75).margin(0.5));
}

TEST_CASE("inode_usage crosses its thresholds as files are made") {
    small_tmpfs fs;
    if (!fs.mounted) {
        WARN("not allowed to mount a tmpfs here: skipped");
        return;
    }
    auto item = disk_item("inode_usage", fs.dir.path(), "    warning: 50\n    critical: 90\n");
    for (int i = 0; i < 40; ++i) std::ofstream(fs.dir.path() + "/f" + std::to_string(i));
    auto r = run_check(item);
    CHECK(status_of(r) == "warning");
    // 64 inodes: the root directory and 40 files.
    CHECK(*r.outcome.value == Approx(41.0 * 100 / 64).margin(0.01));
    CHECK(std::ceil(*r.outcome.value) == df_percent(fs.dir.path(), "ipcent"));
}

TEST_CASE("disk_usage of a path that does not exist is unknown, naming it") {
    auto r = run_check(disk_item("disk_usage", "/no/such/mount"));
    CHECK(status_of(r) == "unknown");
    CHECK(r.outcome.message ==
          "cannot read the filesystem of /no/such/mount: No "
          "such file or directory");
}

TEST_CASE("memory_available and swap_used read /proc/meminfo") {
    proc_root root;
    root.put("/proc/meminfo",
             "MemTotal:        8000000 kB\nMemFree:          100000 kB\n"
             "MemAvailable:     600000 kB\nSwapTotal:       2000000 kB\n"
             "SwapFree:         500000 kB\n");
    auto memory = run_check("    id: m\n    type: memory_available\n", root.dir.path());
    CHECK(status_of(memory) == "warning");  // 7.5 % < 10 %, not < 5 %
    CHECK(*memory.outcome.value == 7.5);
    CHECK(memory.outcome.message ==
          "7.5% of memory available (586 MiB of 7812 MiB) (warning below 10%)");
    auto swap = run_check("    id: s\n    type: swap_used\n", root.dir.path());
    CHECK(status_of(swap) == "warning");  // 75 % >= 50 %, < 80 %
    CHECK(*swap.outcome.value == 75);
    auto strict = run_check("    id: s\n    type: swap_used\n    warning: 10\n    critical: 75\n",
                            root.dir.path());
    CHECK(status_of(strict) == "critical");

    root.put("/proc/meminfo",
             "MemTotal: 1000 kB\nMemAvailable: 500 "
             "kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n");
    CHECK(status_of(run_check("    id: s\n    type: swap_used\n", root.dir.path())) == "ok");
    CHECK(run_check("    id: s\n    type: swap_used\n", root.dir.path()).outcome.message ==
          "no swap configured");
    CHECK(status_of(run_check("    id: m\n    type: memory_available\n", root.dir.path())) == "ok");

    root.put("/proc/meminfo", "MemTotal: 1000 kB\n");
    auto old_kernel = run_check("    id: m\n    type: memory_available\n", root.dir.path());
    CHECK(status_of(old_kernel) == "unknown");
    CHECK(old_kernel.outcome.message.find("no MemTotal or MemAvailable") != std::string::npos);
}

TEST_CASE("memory_available on the real /proc matches MemAvailable / MemTotal") {
    auto r = run_check(
        "    id: m\n    type: memory_available\n    warning: 0\n  "
        "  critical: 0\n");
    auto meminfo = run(
        {"awk", "/^MemTotal:/{t=$2} /^MemAvailable:/{a=$2} END{print a*100/t}", "/proc/meminfo"});
    REQUIRE(r.outcome.value);
    CHECK(status_of(r) == "ok");
    CHECK(*r.outcome.value == Approx(std::stod(meminfo.out)).margin(2));
}

TEST_CASE("load_per_core divides the chosen average by the online CPUs") {
    proc_root root;
    root.put("/proc/loadavg", "6.00 3.00 1.50 2/300 4242\n");
    root.put("/sys/devices/system/cpu/online", "0-3\n");
    auto five = run_check("    id: l\n    type: load_per_core\n", root.dir.path());
    CHECK(*five.outcome.value == 0.75);
    CHECK(status_of(five) == "ok");
    CHECK(five.outcome.message == "load 3 over 5m on 4 CPU(s): 0.75 per core");
    auto one = run_check("    id: l\n    type: load_per_core\n    average: 1m\n", root.dir.path());
    CHECK(*one.outcome.value == 1.5);
    CHECK(status_of(one) == "warning");
    root.put("/sys/devices/system/cpu/online", "0,2-3\n");
    auto three_cpus =
        run_check("    id: l\n    type: load_per_core\n    average: 1m\n", root.dir.path());
    CHECK(*three_cpus.outcome.value == 2);
    CHECK(status_of(three_cpus) == "critical");

    root.put("/proc/loadavg", "garbage\n");
    auto garbled = run_check("    id: l\n    type: load_per_core\n", root.dir.path());
    CHECK(status_of(garbled) == "unknown");
    CHECK(garbled.outcome.message.find("loadavg is garbled") != std::string::npos);
}

TEST_CASE("load_per_core on the real /proc uses getconf's online CPU count") {
    auto r = run_check(
        "    id: l\n    type: load_per_core\n    average: 15m\n   "
        " warning: 1000\n    critical: 1000\n");
    auto cpus = run({"getconf", "_NPROCESSORS_ONLN"});
    REQUIRE(cpus.exit_code == 0);
    CHECK(r.outcome.message.find(" on " + std::string(muster::trim(cpus.out)) + " CPU(s)") !=
          std::string::npos);
    CHECK(status_of(r) == "ok");
}
