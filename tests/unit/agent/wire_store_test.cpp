// The state directory and the spool: crash leftovers are cleaned up, a corrupt state file is
// set aside and the agent starts over safely, the spool keeps order and exact bytes, and the
// size cap drops whole delta chains and makes the next report full.
#include "agent/wire/session.h"
#include "agent/wire/spool.h"
#include "agent/wire/state_store.h"
#include "common/file.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using namespace muster::agent::wire;

report_entry entry(std::uint64_t seq, const std::string& kind, std::size_t body_bytes = 100) {
    report_entry e;
    e.seq = seq;
    e.kind = kind;
    e.base_seq = kind == "full" ? 0 : seq - 1;
    e.state_hash = std::string(64, 'a');
    e.body = std::string(body_bytes, static_cast<char>('0' + seq % 10));
    e.body[0] = '\n';  // a body may hold any byte, newlines included
    e.signature = std::string(64, 's');
    return e;
}

std::vector<std::uint64_t> seqs(const spool& s) {
    std::vector<std::uint64_t> out;
    for (const auto& e : s.list()) out.push_back(e.seq);
    return out;
}

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

muster::agent::agent_config session_config(const std::string& dir, std::uint64_t cap) {
    muster::agent::agent_config config;
    config.collector.emplace();
    std::string problem;
    config.collector->url = *parse_collector_url("https://127.0.0.1:1", &problem);
    config.collector->ca_fingerprint = std::string(64, '0');
    config.state_dir = dir + "/state";
    config.spool_max_bytes = cap;
    return config;
}

boost::json::object inventory(int packages) {
    boost::json::array software;
    for (int i = 0; i < packages; ++i)
        software.push_back({{"source", "deb"},
                            {"name", "pkg" + std::to_string(i)},
                            {"arch", "amd64"},
                            {"version", "1." + std::to_string(i)}});
    return {{"system", {{"hostname", "web-1"}}}, {"software", std::move(software)}};
}

}  // namespace

TEST_CASE("state.json round-trips and is the only file written in place") {
    muster::test::temp_dir dir;
    state_store store(dir.path() + "/s");
    CHECK(mode_of(store.dir()) == 0700);
    CHECK(store.load().what == load_result::status::absent);
    agent_state s{"agent-7", 12, 9, "h9", 11, "h11", false};
    store.save(s);
    auto loaded = store.load();
    CHECK(loaded.what == load_result::status::loaded);
    CHECK(loaded.state == s);
    CHECK(mode_of(store.state_file()) == 0600);
}

TEST_CASE("crash leftovers are removed: stray .tmp files and uncommitted state files") {
    muster::test::temp_dir dir;
    state_store store(dir.path());
    agent_state s{"a", 4, 2, "h2", 3, "h3", false};
    for (std::uint64_t seq : {1, 2, 3, 4}) store.write_state(seq, {{"seq", seq}});
    REQUIRE(muster::write_file_atomic(dir.path() + "/state.json.tmp", "{\"agent_id\""));
    REQUIRE(muster::write_file_atomic(dir.path() + "/states/x.tmp", "partial"));
    store.save(s);
    store.recover(s);
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(dir.path() + "/states"))
        left.push_back(e.path().filename().string());
    std::sort(left.begin(), left.end());
    CHECK(left ==
          std::vector<std::string>{seq_file_stem(2) + ".json.gz", seq_file_stem(3) + ".json.gz"});
    CHECK_FALSE(fs::exists(dir.path() + "/state.json.tmp"));
    CHECK(store.read_state(3) == boost::json::object{{"seq", 3}});
}

TEST_CASE("a truncated or inconsistent state.json is reported, not guessed") {
    muster::test::temp_dir dir;
    state_store store(dir.path());
    auto text = serialize_state({"a", 4, 2, "h2", 3, "h3", false});
    REQUIRE(muster::write_file_atomic(store.state_file(), text.substr(0, text.size() / 2)));
    auto loaded = store.load();
    CHECK(loaded.what == load_result::status::corrupt);
    CHECK(loaded.problem.starts_with("not valid JSON"));

    std::string problem;
    CHECK_FALSE(parse_state(serialize_state({"a", 3, 0, "", 3, "h", false}), &problem));
    CHECK(problem == "inconsistent sequence numbers");
}

TEST_CASE("a session on a corrupt state starts over with a seq larger than any used before") {
    muster::test::temp_dir dir;
    auto config = session_config(dir.path(), 1 << 20);
    { agent_session first(config); }  // creates the key and state
    REQUIRE(muster::write_file_atomic(config.state_dir / "state.json", "{\"agent_id\": \"a"));
    agent_session again(config);
    CHECK(again.state().agent_id.empty());
    CHECK(again.state().next_full);
    CHECK(again.state().next_seq >= seq_after_lost_state() - 60'000);
    CHECK(fs::exists(config.state_dir / "state.json.corrupt"));
    CHECK(mode_of(config.state_dir / "agent.key") == 0600);
}

TEST_CASE("the spool lists reports oldest first and keeps their exact bytes") {
    muster::test::temp_dir dir;
    spool s(dir.path() + "/spool", 1 << 20);
    for (std::uint64_t seq : {12, 3, 100, 7}) s.add(entry(seq, seq == 3 ? "full" : "delta"));
    CHECK(seqs(s) == std::vector<std::uint64_t>{3, 7, 12, 100});
    auto e = s.read(7);
    REQUIRE(e);
    CHECK(spool::encode(*e) == spool::encode(entry(7, "delta")));
    CHECK(e->body == entry(7, "delta").body);
    CHECK(e->signature == entry(7, "delta").signature);
    s.remove_through(7);
    s.remove_from(100);
    CHECK(seqs(s) == std::vector<std::uint64_t>{12});
}

TEST_CASE("a truncated spool file is detected and removed") {
    muster::test::temp_dir dir;
    spool s(dir.path(), 1 << 20);
    s.add(entry(1, "full"));
    s.add(entry(2, "delta"));
    auto path = dir.path() + "/" + seq_file_stem(2) + ".report";
    fs::resize_file(path, fs::file_size(path) - 1);
    CHECK_FALSE(s.read(2));
    std::vector<std::uint64_t> corrupt;
    fs::resize_file(path, 5);  // not even a header line
    CHECK(s.list(&corrupt).size() == 1);
    CHECK(corrupt == std::vector<std::uint64_t>{2});
    CHECK_FALSE(fs::exists(path));
}

TEST_CASE("the cap drops the oldest report together with the deltas that depend on it") {
    muster::test::temp_dir dir;
    auto size_of = [](std::uint64_t seq, const char* kind) {
        return spool::encode(entry(seq, kind)).size();
    };
    auto total = size_of(1, "full") + size_of(2, "delta") + size_of(3, "delta") +
                 size_of(4, "full") + size_of(5, "delta");
    spool s(dir.path(), total);
    s.add(entry(1, "full"));
    s.add(entry(2, "delta"));
    s.add(entry(3, "delta"));
    s.add(entry(4, "full"));
    s.add(entry(5, "delta"));
    CHECK(s.total_bytes() == total);
    CHECK(s.make_room(0).empty());
    CHECK(s.make_room(1) == std::vector<std::uint64_t>{1, 2, 3});
    CHECK(seqs(s) == std::vector<std::uint64_t>{4, 5});
    CHECK(s.total_bytes() == size_of(4, "full") + size_of(5, "delta"));
}

TEST_CASE("when the cap drops the previous report, the next report is full") {
    muster::test::temp_dir dir;
    auto config = session_config(dir.path(), 1);  // every new report pushes out the old ones
    agent_session session(config);
    auto first = session.make_report(inventory(50));
    auto second = session.make_report(inventory(51));
    spool s(config.state_dir / "spool", 1);
    CHECK(seqs(s) == std::vector<std::uint64_t>{second});
    CHECK(s.read(second)->kind == "full");
    CHECK(second == first + 1);

    // Without the cap, the next one is a delta on the previous one.
    auto roomy = session_config(dir.path(), 1 << 20);
    agent_session again(roomy);
    auto third = again.make_report(inventory(51));
    auto delta = s.read(third);
    REQUIRE(delta);
    CHECK(delta->kind == "delta");
    CHECK(delta->base_seq == second);
}

TEST_CASE("an undeliverable report stays in the spool byte for byte") {
    muster::test::temp_dir dir;
    auto config = session_config(dir.path(), 1 << 20);
    agent_session session(config);
    // Pretend enrollment happened: deliver() only sends for an enrolled agent.
    auto state = session.state();
    state.agent_id = "agent-1";
    state_store(config.state_dir).save(state);
    agent_session enrolled(config);
    auto seq = enrolled.make_report(inventory(3));
    auto path = config.state_dir / "spool" / (seq_file_stem(seq) + ".report");
    auto before = muster::read_file(path);
    REQUIRE(before);
    auto result = enrolled.deliver();  // nothing listens on port 1
    CHECK(result.status == delivery_status::retry_later);
    CHECK(result.message.find("cannot connect to collector 127.0.0.1:1") != std::string::npos);
    auto after = muster::read_file(path);
    REQUIRE(after);
    CHECK(*after == *before);
}
