// The collector unreachable for long (issue 10, "Faults"): the agent daemon keeps making
// reports every second while nothing listens, its spool capped at 64 KiB (the smallest cap,
// about three full reports of this machine). The spool is sampled while the daemon runs; then
// the collector comes back and the agent resyncs with a full report.
//
// Reports are made big on purpose, so that the cap is reached many times in a few seconds:
// three command checks run every second, each printing 6000 random bytes in Base64 (a
// check's message goes out whole; random text does not compress).
#include "agent/wire/state_store.h"
#include "common/file.h"
#include "common/sqlite.h"
#include "support/installation.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <regex>
#include <thread>

using muster::test::background_process;
using muster::test::installation;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t spool_cap = 64 * 1024;

// Bytes of every file in the spool, temporary ones included; files that vanish while being
// counted (the agent drops and adds concurrently) are skipped.
std::uint64_t spool_bytes(const std::string& dir) {
    std::uint64_t total = 0;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code size_ec;
        auto size = fs::file_size(it->path(), size_ec);
        if (!size_ec) total += size;
    }
    return total;
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

std::string text_of(const std::string& file) {
    auto text = muster::read_file(file);
    return text ? *text : std::string();
}

muster::agent::wire::agent_state agent_state(const installation& inst) {
    auto loaded = muster::agent::wire::state_store(inst.c("agent-state")).load();
    REQUIRE(loaded.what == muster::agent::wire::load_result::status::loaded);
    return loaded.state;
}

struct collector_view {
    std::int64_t last_seq = 0;
    std::string state_hash;
    std::vector<std::int64_t> history_seqs;  // in the order recorded, one per report
};

collector_view collector_side(const installation& inst, const std::string& agent_id) {
    auto db = inst.cmdb();
    collector_view view;
    auto q = db.prepare(
        "SELECT a.last_seq, s.state_hash FROM agents a LEFT JOIN agent_states s USING "
        "(agent_id) WHERE agent_id = ?");
    q.bind(1, agent_id);
    REQUIRE(q.step());
    view.last_seq = q.column_int64(0);
    view.state_hash = q.column_is_null(1) ? "" : q.column_text(1);
    auto h =
        db.prepare("SELECT seq FROM ci_history WHERE agent_id = ? GROUP BY seq ORDER BY min(id)");
    h.bind(1, agent_id);
    while (h.step()) view.history_seqs.push_back(h.column_int64(0));
    return view;
}

// "report 12 (full) acknowledged" lines of a log, in order: (seq, kind).
std::vector<std::pair<std::uint64_t, std::string>> acknowledged(const std::string& log) {
    std::vector<std::pair<std::uint64_t, std::string>> out;
    std::regex line("report (\\d+) \\((full|delta)\\) acknowledged");
    for (std::sregex_iterator it(log.begin(), log.end(), line), end; it != end; ++it)
        out.emplace_back(std::stoull((*it)[1]), (*it)[2]);
    return out;
}

}  // namespace

TEST_CASE("collector away for long: spool under its cap, drops logged, full resync after") {
    installation inst;
    auto collector = inst.start_collector();
    {
        auto [code, log] = inst.agent_once();
        INFO(log);
        REQUIRE(code == 0);
    }
    auto enrolled = agent_state(inst);
    collector->signal(SIGTERM);
    REQUIRE(collector->wait(60000) == 0);

    std::string noisy = "head -c 6000 /dev/urandom | base64 -w0";
    std::string checks = "checks:\n";
    for (int i = 1; i <= 3; ++i) {
        checks += "  - {id: noise-" + std::to_string(i) +
                  ", type: command, interval: 1s, timeout: 20s, argv: [/bin/sh, -c, \"" + noisy +
                  "\"]}\n";
    }
    inst.append("agent.yaml",
                "inventory: {interval: 5s, splay: 0s}\nspool: {max_bytes: 64KiB}\n" + checks);
    background_process daemon({MUSTER_AGENT_BIN, "run", "--config", inst.c("agent.yaml")},
                              inst.path("agent.log"));

    // About 25 s away: the cap is reached every few seconds.
    auto spool_dir = inst.c("agent-state/spool");
    std::uint64_t largest = 0;
    std::size_t samples = 0;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(25);
    while (std::chrono::steady_clock::now() < until ||
           count_of(text_of(inst.path("agent.log")), "spool full") < 3) {
        largest = std::max(largest, spool_bytes(spool_dir));
        ++samples;
        REQUIRE(std::chrono::steady_clock::now() < until + std::chrono::seconds(60));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    auto away_log = text_of(inst.path("agent.log"));
    INFO(away_log);
    WARN("spool: at most " << largest << " bytes in " << samples << " samples (cap " << spool_cap
                           << "); " << count_of(away_log, "spool full") << " overflows");
    CHECK(largest <= spool_cap);
    CHECK(largest > spool_cap / 2);  // the samples saw the spool near its cap
    CHECK(count_of(away_log, "spool full (65536 bytes max): dropped") >= 3);
    CHECK(acknowledged(away_log).empty());
    auto away = agent_state(inst);
    CHECK(away.last_seq > enrolled.last_seq + 3);

    // Back: everything still spooled goes out, the first of it a full report.
    collector = inst.start_collector();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (acknowledged(text_of(inst.path("agent.log"))).size() < 3) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    daemon.signal(SIGTERM);
    CHECK(daemon.wait(60000) == 0);

    auto log = text_of(inst.path("agent.log"));
    INFO(log);
    auto acks = acknowledged(log);
    CHECK(acks.front().second == "full");
    CHECK(acks.front().first > enrolled.last_seq + 3);  // the oldest were dropped, never sent
    for (std::size_t i = 1; i < acks.size(); ++i) CHECK(acks[i].first > acks[i - 1].first);

    auto state = agent_state(inst);
    auto seen = collector_side(inst, state.agent_id);
    CHECK(seen.last_seq == static_cast<std::int64_t>(state.acked_seq));
    CHECK(seen.state_hash == state.acked_state_hash);  // the host's current inventory
    for (std::size_t i = 1; i < seen.history_seqs.size(); ++i)
        CHECK(seen.history_seqs[i] > seen.history_seqs[i - 1]);  // none stored twice
    auto collector_log = inst.collector_log();
    INFO(collector_log);
    CHECK(collector_log.find("resync") == std::string::npos);
    CHECK(collector_log.find("replay") == std::string::npos);
    collector->signal(SIGTERM);
    CHECK(collector->wait(60000) == 0);
}
