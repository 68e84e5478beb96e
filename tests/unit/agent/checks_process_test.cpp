// process against real running children, file_age against files dated with
// touch -d.
#include "checks_support.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>

using namespace checks_test;
using muster::test::run;
using muster::test::temp_dir;

namespace {

// A copy of sleep under a name no other process has, running `copies` times.
struct sleepers {
    temp_dir dir;
    std::string name;
    std::vector<pid_t> pids;

    explicit sleepers(int copies) {
        name = "mchk" + std::to_string(std::random_device{}() % 1000000000);
        auto program = dir.path() + "/" + name;
        std::filesystem::copy_file("/bin/sleep", program);
        for (int i = 0; i < copies; ++i) {
            pid_t pid = fork();
            REQUIRE(pid >= 0);
            if (pid == 0) {
                execl(program.c_str(), name.c_str(), "300", "--", static_cast<char*>(nullptr));
                _exit(127);
            }
            pids.push_back(pid);
        }
        // exec has happened once comm shows the new name.
        for (auto pid : pids) {
            for (int i = 0; i < 200; ++i) {
                auto comm = run({"cat", "/proc/" + std::to_string(pid) + "/comm"});
                if (comm.out == name + "\n") break;
                usleep(10000);
            }
        }
    }
    ~sleepers() {
        for (auto pid : pids) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
    }
};

std::string process_item(const std::string& match, const std::string& more = "") {
    return "    id: p\n    type: process\n    " + match + "\n" + more;
}

}  // namespace

TEST_CASE("process counts running processes by name, against min and max") {
    sleepers two(2);
    auto r = run_check(process_item("name: " + two.name));
    CHECK(status_of(r) == "ok");
    CHECK(*r.outcome.value == 2);
    CHECK(r.outcome.message == "2 processes named " + two.name);

    auto too_many = run_check(process_item("name: " + two.name, "    max: 1\n"));
    CHECK(status_of(too_many) == "critical");
    CHECK(too_many.outcome.message == "2 processes named " + two.name + " (expected at most 1)");

    auto too_few = run_check(process_item("name: " + two.name, "    min: 3\n"));
    CHECK(status_of(too_few) == "critical");

    auto absent = run_check(process_item("name: nosuchprocxyz"));
    CHECK(status_of(absent) == "critical");
    CHECK(absent.outcome.message == "0 processes named nosuchprocxyz (expected at least 1)");
    CHECK(*absent.outcome.value == 0);

    auto may_be_absent = run_check(process_item("name: nosuchprocxyz", "    min: 0\n"));
    CHECK(status_of(may_be_absent) == "ok");
}

TEST_CASE("process matches the command line by substring or regular expression") {
    sleepers one(1);
    auto by_substring = run_check(process_item("command_line: '" + one.name + " 300 --'"));
    CHECK(*by_substring.outcome.value == 1);
    auto by_regex = run_check(process_item("command_regex: '^" + one.name + " [0-9]+ --$'"));
    CHECK(*by_regex.outcome.value == 1);
    CHECK(status_of(by_regex) == "ok");
    auto no_match = run_check(process_item("command_regex: '^" + one.name + " 301'"));
    CHECK(*no_match.outcome.value == 0);
    CHECK(status_of(no_match) == "critical");
}

TEST_CASE("process does not count the agent itself") {
    char saved[16] = {};
    prctl(PR_GET_NAME, saved);
    auto name = "mself" + std::to_string(getpid());
    prctl(PR_SET_NAME, name.c_str());
    auto r = run_check(process_item("name: " + name, "    min: 0\n"));
    prctl(PR_SET_NAME, saved);
    CHECK(*r.outcome.value == 0);
}

TEST_CASE(
    "file_age measures the time since the last change, with touch -d as "
    "the clock") {
    temp_dir dir;
    auto file = dir.path() + "/stamp";
    auto item = "    id: f\n    type: file_age\n    path: " + file +
                "\n    warning: 1h\n    critical: 1d\n";
    REQUIRE(run({"touch", "-d", "-10 minutes", file}).exit_code == 0);
    auto fresh = run_check(item);
    CHECK(status_of(fresh) == "ok");
    CHECK(*fresh.outcome.value == Approx(600).margin(30));
    CHECK(fresh.outcome.unit == "s");
    CHECK(fresh.outcome.message == file + " was modified 10 min ago");

    REQUIRE(run({"touch", "-d", "-3 hours", file}).exit_code == 0);
    auto stale = run_check(item);
    CHECK(status_of(stale) == "warning");
    CHECK(stale.outcome.message == file + " was modified 3 h ago (warning at 1 h)");

    REQUIRE(run({"touch", "-d", "-3 days", file}).exit_code == 0);
    auto old = run_check(item);
    CHECK(status_of(old) == "critical");
    CHECK(*old.outcome.value == Approx(3 * 86400).margin(60));
    CHECK(old.outcome.message == file + " was modified 3 d ago (critical at 1 d)");

    std::filesystem::remove(file);
    auto missing = run_check(item);
    CHECK(status_of(missing) == "critical");
    CHECK(missing.outcome.message == file + " does not exist");
}
