// The collector killed with SIGKILL under load loses no acknowledged report (issue 5,
// "Durability"): real collector, real agents simulated by muster-loadgen over TLS, the
// collector killed while reports are in flight, restarted on the same database.
//
// Why this test fails when acknowledgements go out before the commit: the loadgen writes
// "agent_id seq" to its log the moment a 200 arrives, and keeps dozens of reports in
// flight, so at the kill the writer is almost always in the middle of a batch. If the
// collector answered before that batch committed, the answered reports of the batch would
// be acknowledged in the log and missing from the database (agents.last_seq below the
// logged seq) after the restart. The test kills five times to make a lucky miss
// unlikely. Checked by answering before store.ingest() in ingest_writer::apply: this test
// then fails (at the first kill in our runs; with three kills it once passed, hence five).
#include "common/file.h"
#include "common/sqlite.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

using muster::test::background_process;
using muster::test::run;

namespace {

struct installation {
    muster::test::temp_dir dir;
    int port = muster::test::free_loopback_port();

    std::string c(const std::string& name) const { return dir.path() + "/c/" + name; }
    std::string path(const std::string& name) const { return dir.path() + "/" + name; }

    installation() {
        auto init = run({MUSTER_COLLECTOR_BIN, "init", "--dir", dir.path() + "/c", "--listen",
                         "127.0.0.1:" + std::to_string(port)});
        INFO(init.out << init.err);
        REQUIRE(init.exit_code == 0);
        // The loadgen's agents send as fast as the collector answers; the default rate
        // limit (60 a minute per agent) would turn most of that into 429s.
        auto config = *muster::read_file(c("collector.yaml"));
        config = std::regex_replace(config, std::regex("agent_rate_per_minute: 60"),
                                    "agent_rate_per_minute: 100000");
        REQUIRE(muster::write_file_atomic(c("collector.yaml"), config, 0600));
        std::smatch m;
        auto agent_yaml = *muster::read_file(c("agent.yaml"));
        REQUIRE(std::regex_search(agent_yaml, m, std::regex("enrollment_token: \"([^\"]+)\"")));
        REQUIRE(muster::write_file_atomic(path("token"), m[1].str(), 0600));
    }

    std::unique_ptr<background_process> start_collector(const std::string& log) const {
        auto p = std::make_unique<background_process>(
            std::vector<std::string>{MUSTER_COLLECTOR_BIN, "serve", "--config",
                                     c("collector.yaml")},
            path(log));
        REQUIRE(muster::test::wait_for_port(port, 60000));
        return p;
    }

    std::vector<std::string> loadgen(const std::string& seed, const std::string& agents) const {
        return {MUSTER_LOADGEN_BIN,
                "--url",
                "https://127.0.0.1:" + std::to_string(port),
                "--ca",
                c("ca.pem"),
                "--token-file",
                path("token"),
                "--agents",
                agents,
                "--concurrency",
                "16",
                "--packages",
                "200",
                "--gzip-level",
                "1",
                "--seed",
                seed,
                "--timeout",
                "120",
                "--quiet"};
    }
};

std::string text_of(const std::string& file) {
    auto text = muster::read_file(file);
    return text ? *text : "";
}

std::size_t line_count(const std::string& file) {
    auto text = muster::read_file(file);
    if (!text) return 0;
    return static_cast<std::size_t>(std::count(text->begin(), text->end(), '\n'));
}

// The highest acknowledged seq of each agent in a loadgen --acked-log.
std::map<std::string, std::int64_t> acknowledged(const std::string& file) {
    std::map<std::string, std::int64_t> out;
    std::ifstream in(file);
    std::string agent_id;
    std::int64_t seq = 0;
    while (in >> agent_id >> seq) out[agent_id] = std::max(out[agent_id], seq);
    return out;
}

std::string integrity_check(const std::string& db_file) {
    muster::sqlite_database db(db_file, muster::sqlite_open::read_only);
    auto q = db.prepare("PRAGMA integrity_check");
    std::string result;
    while (q.step()) result += q.column_text(0);
    return result;
}

// Every acknowledged (agent, seq) is in the database: the agent's last_seq reached it and
// its CI exists. Returns how many acknowledged agents were checked.
std::size_t check_acknowledged(const std::string& db_file,
                               const std::map<std::string, std::int64_t>& acked) {
    muster::sqlite_database db(db_file, muster::sqlite_open::read_only);
    auto q = db.prepare(
        "SELECT agents.last_seq, cis.id FROM agents LEFT JOIN cis ON cis.id = agents.ci_id "
        "WHERE agents.agent_id = ?");
    for (const auto& [agent_id, seq] : acked) {
        q.reset();
        q.bind(1, agent_id);
        INFO("agent " << agent_id << ", acknowledged seq " << seq);
        REQUIRE(q.step());
        CHECK(q.column_int64(0) >= seq);
        CHECK_FALSE(q.column_is_null(1));
    }
    return acked.size();
}

}  // namespace

TEST_CASE("SIGKILL under load loses no acknowledged report and leaves an intact database") {
    installation inst;
    const std::string db_file = inst.c("cmdb.sqlite");
    std::map<std::string, std::int64_t> all_acked;
    const int kills = 5;
    auto collector = inst.start_collector("collector-0.log");

    for (int round = 1; round <= kills; ++round) {
        INFO("kill number " << round);
        const auto n = std::to_string(round);
        // New agents each round (their own seed), sending full reports then churn deltas
        // until the collector is gone.
        auto acked_log = inst.path("acked-" + n + ".log");
        auto args = inst.loadgen(n, "48");
        args.insert(args.end(),
                    {"--phases", "full,churn", "--until-killed", "--acked-log", acked_log});
        background_process loadgen(args, inst.path("loadgen-" + n + ".log"));

        // Some hundreds acknowledged, and the run still going: reports are in flight.
        auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(4);
        int early_exit = -2;
        while (line_count(acked_log) < 300 && std::chrono::steady_clock::now() < deadline &&
               (early_exit = loadgen.wait(0)) == -2) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        INFO(text_of(inst.path("loadgen-" + n + ".log")));
        REQUIRE(early_exit == -2);
        REQUIRE(line_count(acked_log) >= 300);
        collector->signal(SIGKILL);
        REQUIRE(collector->wait(30000) == -1);

        // The loadgen notices the collector is gone and ends cleanly.
        int loadgen_exit = loadgen.wait(120000);
        INFO(text_of(inst.path("loadgen-" + n + ".log")));
        REQUIRE(loadgen_exit == 0);
        for (const auto& [agent_id, seq] : acknowledged(acked_log)) all_acked[agent_id] = seq;

        // Restarted on the same database: intact, and every acknowledged report is there.
        collector = inst.start_collector("collector-" + n + ".log");
        CHECK(integrity_check(db_file) == "ok");
        CHECK(check_acknowledged(db_file, all_acked) == all_acked.size());
    }
    CHECK(all_acked.size() >= kills * 10);

    // The restarted collector still takes reports: new agents enroll, send full reports and
    // deltas, and every one is acknowledged (exit code 0).
    auto args = inst.loadgen("99", "8");
    args.insert(args.end(), {"--phases", "full,delta", "--deltas-per-agent", "3", "--acked-log",
                             inst.path("acked-final.log")});
    auto after = run(args);
    INFO(after.out << after.err);
    CHECK(after.exit_code == 0);
    auto final_acked = acknowledged(inst.path("acked-final.log"));
    CHECK(final_acked.size() == 8);
    for (const auto& [agent_id, seq] : final_acked) CHECK(seq == 4);
    CHECK(check_acknowledged(db_file, final_acked) == 8);
    CHECK(integrity_check(db_file) == "ok");
}
