// The agent killed during a state write (issue 10, "Faults"): `muster-agent once` against a
// live collector, SIGKILLed after a random delay spread over its whole run (measured first),
// forty times, each kill followed by a run that must complete. The state directory
// (agent_state.h: state.json is the commit point, written last) must stay consistent through
// every kill, and the collector must never see a replayed seq or a gap it cannot apply.
//
// The inventory changes every iteration (a tag), so every run writes a state file, a spool
// file and state.json at least twice: the kills land in those writes often.
#include "agent/wire/state_store.h"
#include "common/file.h"
#include "common/sqlite.h"
#include "support/installation.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <random>
#include <regex>
#include <thread>

using muster::test::background_process;
using muster::test::installation;
namespace fs = std::filesystem;
namespace wire = muster::agent::wire;

namespace {

using steady = std::chrono::steady_clock;

void set_tags(const installation& inst, const std::string& tags) {
    auto text = *muster::read_file(inst.c("agent.yaml"));
    text = std::regex_replace(text, std::regex("\ntags:[^\n]*"), "");
    REQUIRE(muster::write_file_atomic(inst.c("agent.yaml"), text + "\ntags: [" + tags + "]\n"));
}

// Files a completed run must not leave behind: temporaries, and state or spool files that
// state.json does not reference.
std::vector<std::string> leftovers(const std::string& state_dir, const wire::agent_state& s) {
    std::vector<std::string> out;
    for (const auto& entry : fs::recursive_directory_iterator(state_dir)) {
        if (!entry.is_regular_file()) continue;
        auto name = entry.path().filename().string();
        auto parent = entry.path().parent_path().filename().string();
        bool expected = false;
        if (parent == "states") {
            auto seq = wire::seq_of_file_name(name, ".json.gz");
            expected = seq && (*seq == s.acked_seq || *seq == s.last_seq);
        } else if (parent == "spool") {
            expected = false;  // everything was acknowledged
        } else {
            expected = name == "state.json" || name == "agent.key";
        }
        if (!expected) out.push_back(entry.path().string());
    }
    return out;
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// After a kill: state.json is whole (never half written), and the next run completes,
// recovers without complaint and leaves nothing stray. Returns the new acknowledged seq.
std::uint64_t check_recovery(const installation& inst, const std::string& agent_id,
                             std::uint64_t acked_before) {
    auto loaded = wire::state_store(inst.c("agent-state")).load();
    INFO(loaded.problem);
    REQUIRE(loaded.what == wire::load_result::status::loaded);
    CHECK(loaded.state.acked_seq >= acked_before);

    auto [code, log] = inst.agent_once();
    INFO(log);
    REQUIRE(code == 0);
    CHECK(log.find("corrupt") == std::string::npos);
    CHECK(log.find("resync") == std::string::npos);
    CHECK(log.find("replay") == std::string::npos);
    CHECK(log.find("enrolled") == std::string::npos);  // the identity survived
    auto state = wire::state_store(inst.c("agent-state")).load().state;
    CHECK(state.agent_id == agent_id);
    CHECK(state.acked_seq == state.last_seq);
    CHECK(state.acked_seq > acked_before);
    CHECK(leftovers(inst.c("agent-state"), state) == std::vector<std::string>{});
    return state.acked_seq;
}

// The collector's side: the last acknowledged seq, each report recorded once, in order,
// never a refusal of a replayed or unappliable report.
void check_collector(const installation& inst, const std::string& agent_id, std::uint64_t acked,
                     std::size_t at_least_reports) {
    auto db = inst.cmdb();
    auto q = db.prepare("SELECT last_seq FROM agents WHERE agent_id = ?");
    q.bind(1, agent_id);
    REQUIRE(q.step());
    CHECK(q.column_int64(0) == static_cast<std::int64_t>(acked));
    auto h =
        db.prepare("SELECT seq FROM ci_history WHERE agent_id = ? GROUP BY seq ORDER BY min(id)");
    h.bind(1, agent_id);
    std::vector<std::int64_t> seqs;
    while (h.step()) seqs.push_back(h.column_int64(0));
    CHECK(seqs.size() >= at_least_reports);  // a tag change in each iteration
    for (std::size_t i = 1; i < seqs.size(); ++i) CHECK(seqs[i] > seqs[i - 1]);
    auto collector_log = inst.collector_log();
    INFO(collector_log);
    CHECK(count_of(collector_log, "replay") == 0);
    CHECK(count_of(collector_log, "resync") == 0);
}

// The syscalls that commit or discard a file of the state directory.
const std::string file_commits = "rename,renameat,renameat2,unlink,unlinkat";

std::vector<std::string> under_strace(const std::string& options, const installation& inst) {
    return {"strace",
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-e",
            "trace=" + file_commits,
            "-e",
            options,
            MUSTER_AGENT_BIN,
            "once",
            "--config",
            inst.c("agent.yaml")};
}

}  // namespace

TEST_CASE("agent SIGKILLed at random points of its run: state consistent, next run recovers") {
    installation inst;
    // Its runs follow one another faster than the default 60 reports a minute allow.
    inst.lift_rate_limit();
    auto collector = inst.start_collector();
    {
        auto [code, log] = inst.agent_once();
        INFO(log);
        REQUIRE(code == 0);
    }
    auto agent_id = wire::state_store(inst.c("agent-state")).load().state.agent_id;

    // A typical run, measured on this machine as it is loaded now.
    auto start = steady::now();
    set_tags(inst, "measure");
    REQUIRE(inst.agent_once().first == 0);
    auto typical = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - start);
    WARN("a complete `muster-agent once` takes " << typical.count() / 1000 << " ms here");

    std::mt19937 random(20261130);
    std::uniform_int_distribution<long long> delay(0, typical.count());
    std::uint64_t acked_before = 0;
    int killed_mid_run = 0, iterations = 0;
    auto budget = steady::now() + std::chrono::seconds(70);
    for (int i = 0; i < 40 && (i < 15 || steady::now() < budget); ++i, ++iterations) {
        set_tags(inst, "kill-" + std::to_string(i));
        {
            background_process victim({MUSTER_AGENT_BIN, "once", "--config", inst.c("agent.yaml")},
                                      inst.path("victim.log"));
            std::this_thread::sleep_for(std::chrono::microseconds(delay(random)));
            victim.signal(SIGKILL);
            killed_mid_run += victim.wait(60000) == -1;
        }
        acked_before = check_recovery(inst, agent_id, acked_before);
    }
    WARN(iterations << " iterations, " << killed_mid_run << " killed before they finished");
    CHECK(killed_mid_run >= iterations / 3);  // the delays did land inside the runs

    check_collector(inst, agent_id, acked_before, static_cast<std::size_t>(iterations));
    collector->signal(SIGTERM);
    CHECK(collector->wait(60000) == 0);
}

// Deterministic: strace's fault injection kills the agent exactly when it is about to
// rename a file into place (a temporary written, not yet committed) or to remove one, at
// each such point of a run in turn.
TEST_CASE("agent SIGKILLed at each file commit of its run: state consistent, next run recovers") {
    if (::access("/usr/bin/strace", X_OK) != 0) {
        WARN("SKIPPED: strace is not installed");
        return;
    }
    installation inst;
    // Its runs follow one another faster than the default 60 reports a minute allow.
    inst.lift_rate_limit();
    auto collector = inst.start_collector();
    REQUIRE(inst.agent_once().first == 0);
    auto agent_id = wire::state_store(inst.c("agent-state")).load().state.agent_id;

    // How many such points a run that makes and delivers one report has.
    set_tags(inst, "count");
    auto counted = muster::test::run({"strace", "-f", "-qq", "-e", "trace=" + file_commits,
                                      MUSTER_AGENT_BIN, "once", "--config", inst.c("agent.yaml")});
    REQUIRE(counted.exit_code == 0);
    std::regex call("(^|\\n)(\\[pid +\\d+\\] )?(rename|renameat|renameat2|unlink|unlinkat)\\(");
    auto points = static_cast<int>(
        std::distance(std::sregex_iterator(counted.err.begin(), counted.err.end(), call),
                      std::sregex_iterator()));
    WARN("a run commits or removes a file " << points << " times");
    REQUIRE(points >= 5);  // state.json at start, state, spool, state.json twice

    std::uint64_t acked_before = 0;
    int killed_runs = 0;
    for (int n = 1; n <= points; ++n) {
        INFO("killed at file commit " << n << " of " << points);
        set_tags(inst, "commit-" + std::to_string(n));
        auto killed = muster::test::run(under_strace(
            "inject=" + file_commits + ":signal=SIGKILL:when=" + std::to_string(n), inst));
        // The last points (removing files already superseded) vary from run to run.
        killed_runs += killed.exit_code != 0;
        acked_before = check_recovery(inst, agent_id, acked_before);
    }
    CHECK(killed_runs >= 5);
    check_collector(inst, agent_id, acked_before, static_cast<std::size_t>(points));
    collector->signal(SIGTERM);
    CHECK(collector->wait(60000) == 0);
}
