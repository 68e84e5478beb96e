// The real muster-agent and its checks: `muster-agent check --config` prints
// every result as JSON in the protocol's shape (exit 0 whatever they say, 2 for
// a config error); `once` and the daemon send results to a real collector; the
// daemon stops promptly on SIGTERM while a check hangs, killing the check's
// process group.
#include "common/file.h"
#include "support/process.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

using muster::test::background_process;
using muster::test::run;
using muster::test::temp_dir;

namespace {

std::string script(const temp_dir& dir, const std::string& name, const std::string& body) {
    auto path = dir.path() + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body;
    chmod(path.c_str(), 0755);
    return path;
}

std::string write(const temp_dir& dir, const std::string& name, const std::string& text) {
    auto path = dir.path() + "/" + name;
    REQUIRE(muster::write_file_atomic(path, text));
    return path;
}

// Polls (bounded, a hang guard only) until the file matches pattern; returns
// the content.
std::string wait_for(const std::string& file, const std::string& pattern, int seconds = 120) {
    std::regex re(pattern);
    std::string content;
    for (int i = 0; i < seconds * 10; ++i) {
        auto text = muster::read_file(file);
        if (text) content = *text;
        if (std::regex_search(content, re)) return content;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("waited in vain for /" << pattern << "/ in " << file << ":\n" << content);
    return content;
}

bool process_alive(pid_t pid) {
    auto stat = muster::read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return false;
    auto close = stat->rfind(')');
    return close != std::string::npos && stat->size() > close + 2 && (*stat)[close + 2] != 'Z';
}

const boost::json::object& by_id(const boost::json::array& results, const std::string& id) {
    for (const auto& r : results)
        if (r.as_object().at("id").as_string() == std::string_view(id)) return r.as_object();
    FAIL("no result for " << id);
    return results.front().as_object();
}

}  // namespace

TEST_CASE("muster-agent check prints every result in the protocol's shape") {
    temp_dir dir;
    auto warn = script(dir, "warn", "echo 'APP WARNING - slow | latency=1.5s;1;2'\nexit 1\n");
    auto stamp = dir.path() + "/stamp";
    REQUIRE(run({"touch", "-d", "-2 hours", stamp}).exit_code == 0);
    auto config = write(dir, "agent.yaml",
                        "checks:\n"
                        "  - {id: root, type: disk_usage, path: /, warning: 0, critical: 100, "
                        "severity: high, interval: 1m}\n"
                        "  - {id: closed, type: tcp_connect, host: 127.0.0.1, port: " +
                            std::to_string(muster::test::free_loopback_port()) +
                            "}\n"
                            "  - {id: plugin, type: command, argv: [" +
                            warn +
                            "]}\n"
                            "  - {id: stamp, type: file_age, path: " +
                            stamp +
                            ", warning: 1h, critical: 1d}\n"
                            "  - {id: hang, type: command, argv: [/bin/sleep, '300'], "
                            "timeout: 1s}\n");
    auto r = run({MUSTER_AGENT_BIN, "check", "--config", config});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto results = boost::json::parse(r.out).as_array();
    REQUIRE(results.size() == 5);
    std::vector<std::string> ids;
    for (const auto& v : results) {
        const auto& o = v.as_object();
        ids.push_back(std::string(o.at("id").as_string()));
        CHECK(o.size() == 10);
        CHECK(o.at("type").is_string());
        CHECK(o.at("severity").is_string());
        auto status = std::string(o.at("status").as_string());
        CHECK(
            (status == "ok" || status == "warning" || status == "critical" || status == "unknown"));
        CHECK(!o.at("message").as_string().empty());
        CHECK((o.at("value").is_number() || o.at("value").is_null()));
        CHECK(o.at("unit").is_string());
        CHECK(o.at("checked_at").as_int64() > 1700000000);
        CHECK(o.at("interval").is_int64());
        CHECK(o.at("duration_ms").as_int64() >= 0);
    }
    CHECK(ids == std::vector<std::string>{"root", "closed", "plugin", "stamp", "hang"});
    const auto& root = by_id(results, "root");
    CHECK(root.at("status") == "warning");
    CHECK(root.at("severity") == "high");
    CHECK(root.at("interval") == 60);
    CHECK(root.at("unit") == "%");
    CHECK(by_id(results, "closed").at("status") == "critical");
    CHECK(by_id(results, "closed").at("interval") == 300);
    const auto& plugin = by_id(results, "plugin");
    CHECK(plugin.at("status") == "warning");
    CHECK(plugin.at("message") == "APP WARNING - slow");
    CHECK(plugin.at("value").to_number<double>() == 1.5);
    CHECK(plugin.at("unit") == "s");
    CHECK(by_id(results, "stamp").at("status") == "warning");
    const auto& hang = by_id(results, "hang");
    CHECK(hang.at("status") == "unknown");
    CHECK(hang.at("message") == "/bin/sleep timed out after 1 s; killed with its process group");

    auto pretty = run({MUSTER_AGENT_BIN, "check", "--config", config, "--pretty"});
    REQUIRE(pretty.exit_code == 0);
    CHECK(pretty.out.find("\n  {\n    \"id\": \"root\",") != std::string::npos);
    CHECK(boost::json::parse(pretty.out).as_array().size() == 5);
}

TEST_CASE(
    "muster-agent check: a config error exits 2 naming the place, no "
    "checks prints []") {
    temp_dir dir;
    auto bad =
        write(dir, "bad.yaml", "checks:\n  - {id: a, type: disk_usage, path: /, warnin: 3}\n");
    auto r = run({MUSTER_AGENT_BIN, "check", "--config", bad});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(bad + ":2:40: unknown key 'warnin' in 'checks[0]'") != std::string::npos);
    CHECK(r.out.empty());
    auto none = write(dir, "none.yaml", "tags: [web]\n");
    auto empty = run({MUSTER_AGENT_BIN, "check", "--config", none});
    CHECK(empty.exit_code == 0);
    CHECK(empty.out == "[]\n");
    CHECK(run({MUSTER_AGENT_BIN, "check"}).exit_code == 2);
}

namespace {

struct installation {
    temp_dir dir;
    int port = muster::test::free_loopback_port();
    std::unique_ptr<background_process> collector;

    installation() {
        auto init = run({MUSTER_COLLECTOR_BIN, "init", "--dir", dir.path() + "/c", "--listen",
                         "127.0.0.1:" + std::to_string(port)});
        INFO(init.out << init.err);
        REQUIRE(init.exit_code == 0);
        collector = std::make_unique<background_process>(
            std::vector<std::string>{MUSTER_COLLECTOR_BIN, "serve", "--config",
                                     c("collector.yaml")},
            dir.path() + "/collector.log");
        REQUIRE(muster::test::wait_for_port(port));
    }
    std::string c(const std::string& name) const { return dir.path() + "/c/" + name; }
    // The generated agent.yaml with these lines added.
    std::string agent_config(const std::string& extra) const {
        auto text = muster::read_file(c("agent.yaml"));
        REQUIRE(text);
        auto path = dir.path() + "/agent-checks.yaml";
        REQUIRE(muster::write_file_atomic(path, *text + "\n" + extra));
        return path;
    }
};

}  // namespace

TEST_CASE(
    "once sends the results of one round with the inventory, the "
    "collector acknowledges") {
    installation inst;
    auto config = inst.agent_config(
        "checks:\n"
        "  - {id: root, type: disk_usage, path: /}\n"
        "  - {id: swap, type: swap_used, interval: 30s}\n");
    auto r = run({MUSTER_AGENT_BIN, "once", "--config", config});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(std::regex_search(
        r.err, std::regex(R"(report \d+ \(full, \d+ bytes gzip, 2 check results\) spooled)")));
    CHECK(std::regex_search(r.err, std::regex(R"(report \d+ \(full\) acknowledged)")));
}

TEST_CASE(
    "the daemon reports each round of checks, and stops on SIGTERM while "
    "a check hangs") {
    installation inst;
    temp_dir work;
    auto pid_file = work.path() + "/hang.pid";
    auto hang = script(work, "hang", "echo $$ > " + pid_file + "\nexec sleep 300\n");
    auto config = inst.agent_config(
        "inventory: {splay: 0s}\n"
        "checks:\n"
        "  - {id: swap, type: swap_used, interval: 1s}\n");
    auto log = work.path() + "/agent.log";
    {
        background_process agent(
            {MUSTER_AGENT_BIN, "--log-level", "debug", "run", "--config", config}, log);
        // Rounds after the first go out as deltas from the last state,
        // acknowledged.
        wait_for(log, R"(report \d+ \(delta, \d+ bytes gzip, 1 check results\) spooled)");
        wait_for(log, R"(report \d+ \(delta\) acknowledged)");
        CHECK(wait_for(log, "check swap: ").find("check swap: ok: ") != std::string::npos);
        agent.signal(SIGTERM);
        CHECK(agent.wait(60000) == 0);
    }

    // A check that hangs for 300 s with a 1 h timeout: SIGTERM still stops the
    // daemon, and the check's process is killed on the way out.
    auto hanging = inst.agent_config(
        "inventory: {splay: 0s}\n"
        "checks:\n"
        "  - {id: hang, type: command, argv: [" +
        hang + "], timeout: 1h}\n");
    auto log2 = work.path() + "/agent2.log";
    background_process agent({MUSTER_AGENT_BIN, "run", "--config", hanging}, log2);
    for (int i = 0; i < 600 && !std::filesystem::exists(pid_file); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    REQUIRE(std::filesystem::exists(pid_file));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the pid is written first
    pid_t child = std::stoi(*muster::read_file(pid_file));
    REQUIRE(process_alive(child));
    agent.signal(SIGTERM);
    CHECK(agent.wait(60000) == 0);  // a hang guard: the check alone would last 300 s
    for (int i = 0; i < 500 && process_alive(child); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK_FALSE(process_alive(child));
    CHECK(muster::read_file(log2)->find("stopping on signal") != std::string::npos);
}
