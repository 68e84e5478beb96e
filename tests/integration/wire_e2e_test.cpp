// End to end over TLS on loopback with the real processes: `muster-collector init` and
// `serve`, `muster-agent once`. What the collector holds is read from its SQLite file.
#include "agent/wire/state_store.h"
#include "common/crypto.h"
#include "common/file.h"
#include "common/gzip.h"
#include "common/inventory_state.h"
#include "common/sqlite.h"
#include "support/https_client.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <ctime>
#include <regex>
#include <set>

using muster::test::background_process;
using muster::test::run;

namespace {

struct installation {
    muster::test::temp_dir dir;
    int port = muster::test::free_loopback_port();
    std::string path(const std::string& name) const { return dir.path() + "/" + name; }
    std::string url(const std::string& api) const {
        return "https://127.0.0.1:" + std::to_string(port) + api;
    }

    installation() {
        auto init = run({MUSTER_COLLECTOR_BIN, "init", "--dir", dir.path() + "/c", "--listen",
                         "127.0.0.1:" + std::to_string(port)});
        INFO(init.out << init.err);
        REQUIRE(init.exit_code == 0);
    }
    std::string c(const std::string& name) const { return path("c/" + name); }

    std::unique_ptr<background_process> start_collector() const {
        auto p = std::make_unique<background_process>(
            std::vector<std::string>{MUSTER_COLLECTOR_BIN, "serve", "--config",
                                     c("collector.yaml")},
            path("collector.log"));
        REQUIRE(muster::test::wait_for_port(port));
        return p;
    }
    // One agent cycle; its log is appended to agent.log and returned.
    std::pair<int, std::string> agent_once(const std::string& config = "") const {
        auto r = run({MUSTER_AGENT_BIN, "once", "--config",
                      config.empty() ? c("agent.yaml") : config});
        return {r.exit_code, r.err + r.out};
    }
    muster::agent::wire::agent_state agent_state() const {
        auto loaded = muster::agent::wire::state_store(c("agent-state")).load();
        REQUIRE(loaded.what == muster::agent::wire::load_result::status::loaded);
        return loaded.state;
    }
    std::int64_t collector_last_seq(const std::string& agent_id) const {
        muster::sqlite_database db(c("cmdb.sqlite"), muster::sqlite_open::read_only);
        auto q = db.prepare("SELECT last_seq FROM agents WHERE agent_id = ?");
        q.bind(1, agent_id);
        REQUIRE(q.step());
        return q.column_int64(0);
    }
    // The report seqs that left a history record for this agent, in the order recorded.
    std::vector<std::int64_t> history_seqs(const std::string& agent_id) const {
        muster::sqlite_database db(c("cmdb.sqlite"), muster::sqlite_open::read_only);
        auto q = db.prepare(
            "SELECT DISTINCT seq FROM ci_history WHERE agent_id = ? ORDER BY id");
        q.bind(1, agent_id);
        std::vector<std::int64_t> seqs;
        while (q.step()) seqs.push_back(q.column_int64(0));
        return seqs;
    }
    void set_tags(const std::string& tags) const {
        auto text = *muster::read_file(c("agent.yaml"));
        text = std::regex_replace(text, std::regex("\ntags:[^\n]*"), "");
        REQUIRE(muster::write_file_atomic(c("agent.yaml"), text + "\ntags: [" + tags + "]\n"));
    }
};

std::size_t spooled_bytes(const std::string& log, std::uint64_t seq) {
    std::smatch m;
    std::regex pattern("report " + std::to_string(seq) + " \\((\\w+), (\\d+) bytes gzip\\)");
    REQUIRE(std::regex_search(log, m, pattern));
    return std::stoul(m[2]);
}

// A report signed with the agent's own key, built the way docs/protocol.md says.
struct signed_report {
    std::string body;
    std::string signature;
};
signed_report make_report(const installation& inst, const std::string& agent_id,
                          std::uint64_t seq, const std::string& hostname) {
    boost::json::object inventory{{"system", {{"hostname", hostname}}}};
    auto state = muster::make_state(inventory);
    boost::json::object doc{{"protocol", 1},
                            {"agent_id", agent_id},
                            {"seq", seq},
                            {"sent_at", static_cast<std::int64_t>(std::time(nullptr))},
                            {"kind", "full"},
                            {"base_seq", 0},
                            {"state_hash", muster::state_hash(state)},
                            {"inventory", inventory}};
    auto key = muster::ed25519_key::load_private_pem(inst.c("agent-state/agent.key"));
    signed_report r;
    r.body = muster::gzip_compress(boost::json::serialize(doc));
    r.signature = muster::base64_encode(key.sign(r.body));
    return r;
}

muster::test::https_response post_report(const installation& inst, const std::string& agent_id,
                                         const std::string& body, const std::string& signature) {
    return muster::test::https_post(inst.url("/api/v1/reports"),
                                    {{"Content-Type", "application/json"},
                                     {"Content-Encoding", "gzip"},
                                     {"X-Muster-Agent-Id", agent_id},
                                     {"X-Muster-Signature", signature}},
                                    body, inst.c("ca.pem"));
}

}  // namespace

TEST_CASE("enroll, full report, delta after a change, forced resync, steady state under 1 KB") {
    installation inst;
    auto collector = inst.start_collector();

    auto [first_code, first_log] = inst.agent_once();
    INFO(first_log);
    REQUIRE(first_code == 0);
    auto state = inst.agent_state();
    REQUIRE(!state.agent_id.empty());
    CHECK(state.acked_seq == state.last_seq);
    CHECK(inst.collector_last_seq(state.agent_id) == static_cast<std::int64_t>(state.acked_seq));
    CHECK(first_log.find("(full, ") != std::string::npos);

    // A change: the agent's tags. The next report is a delta carrying it.
    inst.set_tags("e2e-changed");
    auto [delta_code, delta_log] = inst.agent_once();
    INFO(delta_log);
    REQUIRE(delta_code == 0);
    auto after_delta = inst.agent_state();
    CHECK(delta_log.find("(delta, ") != std::string::npos);
    CHECK(inst.collector_last_seq(state.agent_id) ==
          static_cast<std::int64_t>(after_delta.acked_seq));
    CHECK(inst.history_seqs(state.agent_id).back() ==
          static_cast<std::int64_t>(after_delta.acked_seq));

    // Steady state: nothing changed, the report is small on the wire.
    auto [steady_code, steady_log] = inst.agent_once();
    REQUIRE(steady_code == 0);
    auto steady = inst.agent_state();
    auto steady_bytes = spooled_bytes(steady_log, steady.acked_seq);
    WARN("steady-state unchanged report: " << steady_bytes << " bytes gzip body + "
                                           << "88 bytes of signature header");
    CHECK(steady_bytes + 88 <= 1024);

    // Forced resync: the agent's base state no longer matches what the collector holds, so
    // its delta does not apply; the collector answers resync and the agent sends full.
    muster::agent::wire::state_store store(inst.c("agent-state"));
    auto base = store.read_state(steady.last_seq);
    REQUIRE(base);
    // A package the collector never heard of: the delta will remove it, which cannot apply.
    (*base)["software"].as_array().push_back(
        {{"name", "ghost"}, {"version", "1"}, {"arch", "all"}, {"source", "deb"}});
    store.write_state(steady.last_seq, *base);
    inst.set_tags("e2e-resync");
    auto [resync_code, resync_log] = inst.agent_once();
    INFO(resync_log);
    CHECK(resync_code == 0);
    CHECK(resync_log.find("resync") != std::string::npos);
    auto after_resync = inst.agent_state();
    CHECK(after_resync.acked_seq > steady.acked_seq);
    CHECK(inst.collector_last_seq(state.agent_id) ==
          static_cast<std::int64_t>(after_resync.acked_seq));

    collector->signal(SIGTERM);
    CHECK(collector->wait() == 0);
}

TEST_CASE("a flipped byte is refused unparsed, a replay is refused, a resend is idempotent") {
    installation inst;
    auto collector = inst.start_collector();
    REQUIRE(inst.agent_once().first == 0);
    auto id = inst.agent_state().agent_id;
    auto next = static_cast<std::uint64_t>(inst.collector_last_seq(id)) + 1;

    auto good = make_report(inst, id, next, "forged-or-not");
    auto flipped = good.body;
    flipped[flipped.size() / 2] ^= 0x01;
    CHECK(post_report(inst, id, flipped, good.signature).status == 401);

    // Correctly signed bytes that are not gzip reach the decoder and are refused there (400):
    // so the 401 above came before any decompression or parsing.
    auto key = muster::ed25519_key::load_private_pem(inst.c("agent-state/agent.key"));
    std::string garbage = "not gzip at all";
    CHECK(post_report(inst, id, garbage, muster::base64_encode(key.sign(garbage))).status == 400);

    auto accepted = post_report(inst, id, good.body, good.signature);
    INFO(accepted.body);
    REQUIRE(accepted.status == 200);
    auto resent = post_report(inst, id, good.body, good.signature);
    CHECK(resent.status == 200);
    CHECK(resent.body == accepted.body);

    auto other = make_report(inst, id, next, "different-content");
    auto replay = post_report(inst, id, other.body, other.signature);
    CHECK(replay.status == 409);
    CHECK(replay.body.find("replay") != std::string::npos);
    CHECK(inst.collector_last_seq(id) == static_cast<std::int64_t>(next));
}

TEST_CASE("a revoked agent gets 403 and stops, an agent that does not trust the CA sends nothing") {
    installation inst;
    auto collector = inst.start_collector();
    REQUIRE(inst.agent_once().first == 0);
    auto id = inst.agent_state().agent_id;
    auto seq_before = inst.collector_last_seq(id);

    // Another installation's CA: the handshake fails, nothing is delivered.
    installation stranger;
    auto text = *muster::read_file(inst.c("agent.yaml"));
    auto pos = text.find(inst.c("ca.pem"));
    REQUIRE(pos != std::string::npos);
    text.replace(pos, inst.c("ca.pem").size(), stranger.c("ca.pem"));
    REQUIRE(muster::write_file_atomic(inst.path("untrusting.yaml"), text));
    auto [untrusted_code, untrusted_log] = inst.agent_once(inst.path("untrusting.yaml"));
    INFO(untrusted_log);
    CHECK(untrusted_code != 0);
    CHECK(untrusted_log.find("not trusted") != std::string::npos);
    CHECK(inst.collector_last_seq(id) == seq_before);

    {
        muster::sqlite_database db(inst.c("cmdb.sqlite"), muster::sqlite_open::read_write);
        auto q = db.prepare("UPDATE agents SET status = 'revoked' WHERE agent_id = ?");
        q.bind(1, id);
        q.step();
    }
    auto [revoked_code, revoked_log] = inst.agent_once();
    INFO(revoked_log);
    CHECK(revoked_code != 0);
    CHECK(revoked_log.find("revoked") != std::string::npos);
    CHECK(inst.collector_last_seq(id) == seq_before);
}

TEST_CASE("collector away: reports wait in the spool and arrive in order, none lost or twice") {
    installation inst;
    auto collector = inst.start_collector();
    REQUIRE(inst.agent_once().first == 0);
    auto id = inst.agent_state().agent_id;
    collector->signal(SIGTERM);
    REQUIRE(collector->wait() == 0);

    // Two cycles while the collector is down, each with its own change.
    std::vector<std::uint64_t> spooled;
    for (const char* tags : {"away-1", "away-2"}) {
        inst.set_tags(tags);
        auto [code, log] = inst.agent_once();
        CHECK(code != 0);
        spooled.push_back(inst.agent_state().last_seq);
    }
    CHECK(inst.agent_state().acked_seq < spooled.front());

    collector = inst.start_collector();
    inst.set_tags("back");
    auto [code, log] = inst.agent_once();
    INFO(log);
    REQUIRE(code == 0);
    auto final_state = inst.agent_state();
    spooled.push_back(final_state.last_seq);
    CHECK(final_state.acked_seq == final_state.last_seq);
    CHECK(log.find("resync") == std::string::npos);  // each delta applied on its predecessor

    auto history = inst.history_seqs(id);
    std::vector<std::int64_t> tail(history.end() - 3, history.end());
    CHECK(tail == std::vector<std::int64_t>(spooled.begin(), spooled.end()));
    CHECK(std::set<std::int64_t>(history.begin(), history.end()).size() == history.size());
}
