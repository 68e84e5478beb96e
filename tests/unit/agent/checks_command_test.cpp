// command: real scripts exiting 0 to 3 and beyond, killed by a signal, hanging
// (killed at the timeout with their grandchildren), and a real monitoring
// plugin (check_disk from Debian's monitoring-plugins-basic). And the runner: a
// hung in-process check is abandoned and not started again, a throwing check is
// unknown, a stop request ends a round.
#include "agent/checks/types.h"
#include "checks_support.h"
#include "common/file.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace checks_test;
using namespace std::chrono_literals;
using muster::test::run;
using muster::test::temp_dir;

namespace {

std::string script(const temp_dir& dir, const std::string& name, const std::string& body) {
    auto path = dir.path() + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body;
    chmod(path.c_str(), 0755);
    return path;
}

std::string command_item(const std::string& argv, const std::string& more = "") {
    return "    id: c\n    type: command\n    argv: " + argv + "\n" + more;
}

bool process_alive(pid_t pid) {
    // A zombie is dead too: its state letter is Z.
    auto stat = muster::read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return false;
    auto close = stat->rfind(')');
    return close != std::string::npos && stat->size() > close + 2 && (*stat)[close + 2] != 'Z';
}

}  // namespace

TEST_CASE(
    "exit status 0 to 3 is ok, warning, critical, unknown, stdout's "
    "first line the message") {
    temp_dir dir;
    const char* names[] = {"ok", "warning", "critical", "unknown"};
    for (int code = 0; code <= 3; ++code) {
        auto path = script(dir, "exit" + std::to_string(code),
                           "echo 'SERVICE " + std::string(names[code]) +
                               " - all told | time=0.25s;1;2;0'\necho second line\nexit " +
                               std::to_string(code) + "\n");
        auto r = run_check(command_item("[" + path + "]"));
        CHECK(status_of(r) == names[code]);
        CHECK(r.outcome.message == "SERVICE " + std::string(names[code]) + " - all told");
        REQUIRE(r.outcome.value);
        CHECK(*r.outcome.value == 0.25);
        CHECK(r.outcome.unit == "s");
    }
}

TEST_CASE("arguments are passed as given, without a shell") {
    temp_dir dir;
    auto path = script(dir, "args", "echo \"$#:$1:$2\"\n");
    auto r = run_check(command_item("[" + path + ", 'a b', '$HOME;*']"));
    CHECK(r.outcome.message == "2:a b:$HOME;*");
    CHECK(status_of(r) == "ok");
}

TEST_CASE("other exit statuses, signals and programs that cannot start are unknown") {
    temp_dir dir;
    auto four = run_check(command_item("[" + script(dir, "four", "echo odd; exit 4\n") + "]"));
    CHECK(status_of(four) == "unknown");
    CHECK(four.outcome.message == dir.path() +
                                      "/four exited with status 4, which is not a plugin result "
                                      "(0 to 3): odd");
    auto killed = run_check(command_item("[" + script(dir, "killed", "kill -9 $$\n") + "]"));
    CHECK(status_of(killed) == "unknown");
    CHECK(killed.outcome.message == dir.path() + "/killed was killed by signal 9 (SIGKILL)");
    auto missing = run_check(command_item("[" + dir.path() + "/absent]"));
    CHECK(status_of(missing) == "unknown");
    CHECK(missing.outcome.message ==
          "cannot run " + dir.path() + "/absent: No such file or directory");
    auto quiet =
        run_check(command_item("[" + script(dir, "quiet", "echo oops >&2; exit 2\n") + "]"));
    CHECK(status_of(quiet) == "critical");
    CHECK(quiet.outcome.message == "oops");  // stderr when stdout says nothing
}

TEST_CASE("a hanging command is killed at its timeout with its whole process group") {
    temp_dir dir;
    auto pids = dir.path() + "/pids";
    auto path = script(
        dir, "hang",
        "sleep 300 &\necho $! > " + pids + "\necho $$ >> " + pids + "\necho started\nsleep 300\n");
    auto start = std::chrono::steady_clock::now();
    auto r = run_check(command_item("[" + path + "]", "    timeout: 1s\n"));
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(status_of(r) == "unknown");
    CHECK(r.outcome.message ==
          path + " timed out after 1 s; killed with its process group: started");
    CHECK(took < 30s);  // a hang guard, not a timing assertion: the sleeps last 300 s
    auto text = muster::read_file(pids);
    REQUIRE(text);
    std::istringstream in(*text);
    pid_t grandchild = 0, child = 0;
    in >> grandchild >> child;
    REQUIRE(grandchild > 0);
    // SIGKILL is delivered before kill() returns; the grandchild is reaped by
    // init later.
    for (int i = 0; i < 500 && process_alive(grandchild); ++i) usleep(10000);
    CHECK_FALSE(process_alive(grandchild));
    CHECK_FALSE(process_alive(child));
}

TEST_CASE("what a command leaves running after it exits is killed") {
    temp_dir dir;
    auto pids = dir.path() + "/pids";
    auto path =
        script(dir, "leaves", "sleep 300 > /dev/null 2>&1 &\necho $! > " + pids + "\necho done\n");
    auto r = run_check(command_item("[" + path + "]"));
    CHECK(status_of(r) == "ok");
    CHECK(r.outcome.message == "done");
    pid_t straggler = std::stoi(*muster::read_file(pids));
    for (int i = 0; i < 500 && process_alive(straggler); ++i) usleep(10000);
    CHECK_FALSE(process_alive(straggler));
}

TEST_CASE("Debian's check_disk plugin runs unchanged and its exit code is mapped") {
    const std::string plugin = "/usr/lib/nagios/plugins/check_disk";
    REQUIRE(std::filesystem::exists(plugin));  // installers/deps-debian.sh installs it
    // Thresholds in percent of free space: 0 % free never warns, 100 % free
    // always is critical.
    auto ok = run_check(command_item("[" + plugin + ", -w, '0%', -c, '0%', -p, /]"));
    CHECK(status_of(ok) == "ok");
    CHECK(ok.outcome.message.starts_with("DISK OK"));
    REQUIRE(ok.outcome.value);  // one filesystem: one perfdata item, its used space
    CHECK(ok.outcome.unit == "B");
    auto df = run({"df", "-B1", "--output=used", "/"});
    REQUIRE(df.exit_code == 0);
    auto used = std::stod(df.out.substr(df.out.find('\n') + 1));
    CHECK(*ok.outcome.value == Approx(used).epsilon(0.02));
    auto critical = run_check(command_item("[" + plugin + ", -w, '100%', -c, '100%', -p, /]"));
    CHECK(status_of(critical) == "critical");
    CHECK(critical.outcome.message.starts_with("DISK CRITICAL"));
    auto usage = run_check(command_item("[" + plugin + ", --no-such-option]"));
    CHECK(status_of(usage) == "unknown");
}

TEST_CASE("plugin output: the message and a single performance datum") {
    auto one = checks::parse_plugin_output("LOAD OK - 0.5 | 'load 1'=0.50;5;10;0\nmore\n");
    CHECK(one.message == "LOAD OK - 0.5");
    CHECK(*one.value == 0.5);
    CHECK(one.unit == "");
    auto two = checks::parse_plugin_output("OK | a=1ms b=2ms\n");
    CHECK(two.message == "OK");
    CHECK(!two.value);
    auto unknown_value = checks::parse_plugin_output("OK | a=U;1;2\n");
    CHECK(!unknown_value.value);
    auto percent = checks::parse_plugin_output("DISK OK|/=91.5%;80;90\r\n");
    CHECK(percent.message == "DISK OK");
    CHECK(*percent.value == 91.5);
    CHECK(percent.unit == "%");
    CHECK(checks::parse_plugin_output("").message.empty());
}

TEST_CASE(
    "the runner abandons a hung check at its timeout and does not start "
    "it again") {
    auto release = std::make_shared<std::atomic<bool>>(false);
    auto starts = std::make_shared<std::atomic<int>>(0);
    checks::check_config hung;
    hung.id = "hung";
    hung.type = "disk_usage";
    hung.timeout = 200ms;
    hung.run = [release, starts](const checks::run_context&) {
        ++*starts;
        while (!*release) std::this_thread::sleep_for(10ms);  // ignores cancellation, like statvfs
        return checks::outcome_of(checks::check_status::ok, "finally");
    };
    checks::check_config quick;
    quick.id = "quick";
    quick.type = "swap_used";
    quick.run = [](const checks::run_context&) {
        return checks::outcome_of(checks::check_status::warning, "fast", 1.5, "%");
    };
    checks::check_runner runner;
    auto first = runner.run({&hung, &quick});
    CHECK(status_of(first[0]) == "unknown");
    CHECK(first[0].outcome.message == "no result within the timeout of 200 ms; abandoned");
    CHECK(status_of(first[1]) == "warning");
    CHECK(first[1].outcome.message == "fast");
    auto second = runner.run({&hung});
    CHECK(status_of(second[0]) == "unknown");
    CHECK(second[0].outcome.message.find("is still hanging; not started again") !=
          std::string::npos);
    CHECK(*starts == 1);
    *release = true;
    for (int i = 0; i < 500; ++i) {
        auto third = runner.run({&hung});
        if (status_of(third[0]) == "ok") break;
        std::this_thread::sleep_for(10ms);
    }
    CHECK(*starts == 2);  // started again once the hung run ended
}

TEST_CASE("a throwing check is unknown, a stop request ends a round") {
    checks::check_config throwing;
    throwing.id = "t";
    throwing.run = [](const checks::run_context&) -> checks::check_outcome {
        throw std::runtime_error("boom");
    };
    checks::check_config waits;
    waits.id = "w";
    waits.timeout = 1h;
    waits.run = [](const checks::run_context& ctx) {
        while (!ctx.should_stop()) std::this_thread::sleep_for(10ms);
        return checks::outcome_of(checks::check_status::ok, "cancelled cleanly");
    };
    checks::check_runner runner;
    auto r = runner.run({&throwing});
    CHECK(status_of(r[0]) == "unknown");
    CHECK(r[0].outcome.message == "the check failed: boom");
    auto stop_at = std::chrono::steady_clock::now() + 300ms;
    auto stopped =
        runner.run({&waits}, [&] { return std::chrono::steady_clock::now() >= stop_at; });
    // The run saw the cancellation and returned its own outcome within the stop
    // margin.
    CHECK(stopped[0].outcome.message == "cancelled cleanly");
}
