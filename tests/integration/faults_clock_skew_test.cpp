// Clock skew between agent and collector (issue 10, "Faults"): the real agent runs under
// libfaketime (`faketime -f +2h`), which moves its time(), gettimeofday() and
// clock_gettime(CLOCK_REALTIME), OpenSSL's certificate checks included; the monotonic clock is
// left alone so timeouts keep their length.
//
// What is right (docs/protocol.md):
// - ahead by more than clock_skew (5 min by default): refused, 400 clock_skew, nothing
//   stored; the agent keeps the report and says its clock is ahead;
// - ahead within clock_skew, or behind: accepted (a report from the past may have waited in
//   the spool);
// - behind by more than the collector certificate's backdating (1 h, collector/certificates.cpp):
//   the agent cannot trust a certificate that is not valid yet by its clock, and must not; it
//   says so and delivers once its clock is right;
// - an agent whose clock is set right again no longer sends what it made in the future: those
//   reports would be refused until the collector's clock caught up (2 h here); it drops them
//   and sends a full report made now. Without that fix the +2h reports blocked the spool.
// - every time in the CMDB is the collector's clock, never the agent's sent_at.
#include "agent/wire/state_store.h"
#include "common/file.h"
#include "common/sqlite.h"
#include "support/installation.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <csignal>
#include <ctime>
#include <filesystem>
#include <regex>

using muster::test::installation;
using muster::test::run;
namespace fs = std::filesystem;

namespace {

bool faketime_available() {
    return ::access("/usr/bin/faketime", X_OK) == 0;
}

// `muster-agent once` with its clock moved by offset ("+2h", "-30m"; "" for the real clock).
std::pair<int, std::string> once_at(const installation& inst, const std::string& offset) {
    std::vector<std::string> argv;
    if (!offset.empty())
        argv = {"/usr/bin/env", "FAKETIME_DONT_FAKE_MONOTONIC=1", "/usr/bin/faketime", "-f",
                offset};
    for (const auto& arg : {std::string(MUSTER_AGENT_BIN), std::string("once"),
                            std::string("--config"), inst.c("agent.yaml")})
        argv.push_back(arg);
    auto r = run(argv);
    return {r.exit_code, r.err + r.out};
}

void set_tags(const installation& inst, const std::string& tags) {
    auto text = *muster::read_file(inst.c("agent.yaml"));
    text = std::regex_replace(text, std::regex("\ntags:[^\n]*"), "");
    REQUIRE(muster::write_file_atomic(inst.c("agent.yaml"), text + "\ntags: [" + tags + "]\n"));
}

muster::agent::wire::agent_state agent_state(const installation& inst) {
    auto loaded = muster::agent::wire::state_store(inst.c("agent-state")).load();
    REQUIRE(loaded.what == muster::agent::wire::load_result::status::loaded);
    return loaded.state;
}

std::size_t spooled(const installation& inst) {
    std::size_t n = 0;
    for (const auto& entry : fs::directory_iterator(inst.c("agent-state/spool")))
        n += entry.path().extension() == ".report";
    return n;
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

struct collector_view {
    std::int64_t last_seq = 0;
    std::int64_t last_report_at = 0;  // 0: never
    std::int64_t cis = 0;
    std::int64_t first_seen = 0, last_seen = 0;  // of the agent's CI
};

collector_view collector_side(const installation& inst, const std::string& agent_id) {
    auto db = inst.cmdb();
    collector_view view;
    auto q = db.prepare(
        "SELECT a.last_seq, coalesce(a.last_report_at, 0), coalesce(c.first_seen, 0), "
        "coalesce(c.last_seen, 0) FROM agents a LEFT JOIN cis c ON c.id = a.ci_id "
        "WHERE a.agent_id = ?");
    q.bind(1, agent_id);
    REQUIRE(q.step());
    view.last_seq = q.column_int64(0);
    view.last_report_at = q.column_int64(1);
    view.first_seen = q.column_int64(2);
    view.last_seen = q.column_int64(3);
    auto c = db.prepare("SELECT count(*) FROM cis");
    REQUIRE(c.step());
    view.cis = c.column_int64(0);
    return view;
}

std::int64_t unix_now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

}  // namespace

TEST_CASE("an agent clock ahead beyond clock_skew: refused, nothing stored, resync once right") {
    if (!faketime_available()) {
        WARN("SKIPPED: faketime is not installed (Debian package faketime)");
        return;
    }
    installation inst;
    auto collector = inst.start_collector();
    auto started = unix_now();

    auto [ahead_code, ahead_log] = once_at(inst, "+2h");
    INFO(ahead_log);
    CHECK(ahead_code != 0);
    CHECK(ahead_log.find("status 400 clock_skew") != std::string::npos);
    CHECK(ahead_log.find("ahead of the collector's clock") != std::string::npos);
    CHECK(ahead_log.find("set it right (NTP)") != std::string::npos);
    auto state = agent_state(inst);
    REQUIRE(!state.agent_id.empty());  // enrolling does not depend on time
    CHECK(state.acked_seq == 0);
    CHECK(spooled(inst) == 1);
    auto refused = collector_side(inst, state.agent_id);
    CHECK(refused.last_seq == 0);
    CHECK(refused.last_report_at == 0);
    CHECK(refused.cis == 0);

    set_tags(inst, "still-ahead");
    auto [again_code, again_log] = once_at(inst, "+2h");
    INFO(again_log);
    CHECK(again_code != 0);
    CHECK(spooled(inst) == 2);  // kept: the clock is still wrong, the reports are not
    CHECK(collector_side(inst, state.agent_id).last_seq == 0);

    // The clock set almost right (+2 min, within the 5 min allowed): what was made two hours
    // ahead is dropped, a full report made now is accepted.
    set_tags(inst, "almost-right");
    auto [right_code, right_log] = once_at(inst, "+2m");
    INFO(right_log);
    CHECK(right_code == 0);
    CHECK(right_log.find("made while this machine's clock was ahead") != std::string::npos);
    CHECK(right_log.find("(full) acknowledged") != std::string::npos);
    auto after = agent_state(inst);
    CHECK(after.acked_seq == after.last_seq);
    CHECK(spooled(inst) == 0);
    auto seen = collector_side(inst, state.agent_id);
    CHECK(seen.last_seq == static_cast<std::int64_t>(after.acked_seq));
    CHECK(seen.cis == 1);
    // The collector's clock dated it, not the agent's (which says two minutes later).
    auto now = unix_now();
    CHECK(seen.last_report_at >= started - 1);
    CHECK(seen.last_report_at <= now + 1);
    CHECK(seen.first_seen >= started - 1);
    CHECK(seen.last_seen <= now + 1);

    set_tags(inst, "right");
    auto [real_code, real_log] = once_at(inst, "");
    INFO(real_log);
    CHECK(real_code == 0);
    CHECK(real_log.find("(delta) acknowledged") != std::string::npos);

    auto collector_log = inst.collector_log();
    // Report 1 was sent three times: by the two +2h runs, then by the +2m run, which dropped it.
    CHECK(count_of(collector_log, "400 clock_skew") == 3);
    collector->signal(SIGTERM);
    CHECK(collector->wait(60000) == 0);
}

TEST_CASE("an agent clock behind: accepted within the certificate's backdating, else no TLS") {
    if (!faketime_available()) {
        WARN("SKIPPED: faketime is not installed (Debian package faketime)");
        return;
    }
    installation inst;
    auto collector = inst.start_collector();
    auto started = unix_now();

    // Half an hour behind: the report looks old, which a spooled report may be: accepted, and
    // dated by the collector.
    auto [behind_code, behind_log] = once_at(inst, "-30m");
    INFO(behind_log);
    REQUIRE(behind_code == 0);
    auto state = agent_state(inst);
    auto seen = collector_side(inst, state.agent_id);
    CHECK(seen.last_seq == static_cast<std::int64_t>(state.acked_seq));
    CHECK(seen.last_report_at >= started - 1);
    CHECK(seen.last_seen >= started - 1);

    // Two hours behind: the collector's certificate (valid from an hour before `init`) is not
    // valid yet by this clock; nothing is sent, the report waits in the spool.
    set_tags(inst, "far-behind");
    auto [far_code, far_log] = once_at(inst, "-2h");
    INFO(far_log);
    CHECK(far_code != 0);
    CHECK(far_log.find("not yet valid") != std::string::npos);
    CHECK(spooled(inst) == 1);
    CHECK(collector_side(inst, state.agent_id).last_seq == seen.last_seq);

    // Clock right again: the report made two hours "ago" goes out first, then the new one.
    set_tags(inst, "right");
    auto [right_code, right_log] = once_at(inst, "");
    INFO(right_log);
    CHECK(right_code == 0);
    CHECK(count_of(right_log, "(delta) acknowledged") == 2);
    auto after = agent_state(inst);
    CHECK(collector_side(inst, state.agent_id).last_seq ==
          static_cast<std::int64_t>(after.acked_seq));
    collector->signal(SIGTERM);
    CHECK(collector->wait(60000) == 0);
}
