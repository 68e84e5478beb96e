// The collector's disk full (issue 10, "Faults"): the CMDB on a small tmpfs, real agents
// (`muster-agent once`) reporting while it is full, then the tmpfs grown.
//
// The disk is filled by a file, after the WAL is checkpointed down to zero bytes, rather than
// by reports: SQLite reuses its WAL file from the start after a checkpoint, so small reports
// keep fitting into space already allocated long after big ones failed, and a test waiting
// for reports to fill the disk would see full and not full alternate. With an empty WAL and
// no free page, the next write of any report needs space that is not there.
//
// Without the fix this test fails: SQLITE_FULL was a 500 `internal` and two log lines per
// report ("a batch failed", "report seq N failed"), retried one by one.
#include "agent/wire/state_store.h"
#include "common/crypto.h"
#include "common/file.h"
#include "common/gzip.h"
#include "common/inventory_state.h"
#include "common/sqlite.h"
#include "support/https_client.h"
#include "support/installation.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <regex>
#include <thread>

using muster::test::installation;
using muster::test::run;
namespace fs = std::filesystem;

namespace {

// A tmpfs on dir for the length of the test. Unmounted lazily: during a failing test's
// unwinding the collector may still hold files in it.
class tmpfs_mount {
  public:
    tmpfs_mount(std::string dir, const std::string& size) : dir_(std::move(dir)) {
        fs::create_directories(dir_);
        auto r = run({"mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs", dir_});
        mounted_ = r.exit_code == 0;
        problem_ = r.err;
    }
    ~tmpfs_mount() {
        if (mounted_) run({"umount", "-l", dir_});
    }
    tmpfs_mount(const tmpfs_mount&) = delete;
    tmpfs_mount& operator=(const tmpfs_mount&) = delete;

    bool mounted() const { return mounted_; }
    const std::string& problem() const { return problem_; }
    bool resize(const std::string& size) const {
        return run({"mount", "-o", "remount,size=" + size, dir_}).exit_code == 0;
    }
    std::uint64_t free_bytes() const {
        struct statvfs s {};
        REQUIRE(::statvfs(dir_.c_str(), &s) == 0);
        return static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize;
    }

  private:
    std::string dir_;
    bool mounted_ = false;
    std::string problem_;
};

// Writes to file until the filesystem refuses with ENOSPC, in smaller and smaller pieces so
// that no free block is left. Returns the bytes written.
std::uint64_t fill_until_full(const std::string& file) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    std::string chunk(1 << 16, 'x');
    std::uint64_t written = 0;
    for (std::size_t size : {std::size_t{1} << 16, std::size_t{4096}, std::size_t{1}}) {
        for (;;) {
            auto n = ::write(fd, chunk.data(), size);
            if (n <= 0) {
                INFO("write: " << std::strerror(errno));
                REQUIRE((n == 0 || errno == ENOSPC));
                break;
            }
            written += static_cast<std::uint64_t>(n);
        }
    }
    ::close(fd);
    return written;
}

// Moves the WAL into the database file and truncates it to zero bytes, so that the next
// transaction must allocate new blocks for it.
void checkpoint_to_empty_wal(const std::string& db_file) {
    muster::sqlite_database db(db_file, muster::sqlite_open::read_write);
    db.set_busy_timeout(10000);
    for (int attempt = 0; attempt < 100; ++attempt) {
        auto q = db.prepare("PRAGMA wal_checkpoint(TRUNCATE)");
        REQUIRE(q.step());
        bool busy = q.column_int64(0) != 0;
        std::error_code ec;
        auto wal_size = fs::file_size(db_file + "-wal", ec);
        if (!busy && (ec || wal_size == 0)) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("the WAL of " << db_file << " could not be checkpointed to zero bytes");
}

std::string integrity_check(const std::string& db_file) {
    muster::sqlite_database db(db_file, muster::sqlite_open::read_only);
    auto q = db.prepare("PRAGMA integrity_check");
    std::string result;
    while (q.step()) result += q.column_text(0);
    return result;
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// One real agent with its own state directory and configuration file.
struct agent {
    const installation& inst;
    std::string name;

    std::string config() const { return inst.path(name + ".yaml"); }
    std::string state_dir() const { return inst.path(name + "-state"); }

    void configure(const std::string& tags) const {
        auto text = muster::read_file(inst.c("agent.yaml"));
        REQUIRE(text);
        auto yaml = std::regex_replace(*text, std::regex("\nstate_dir:[^\n]*"),
                                       "\nstate_dir: " + state_dir());
        yaml = std::regex_replace(yaml, std::regex("\ntags:[^\n]*"), "");
        REQUIRE(muster::write_file_atomic(config(), yaml + "\ntags: [" + tags + "]\n"));
    }
    std::pair<int, std::string> once() const {
        auto r = run({MUSTER_AGENT_BIN, "once", "--config", config()});
        return {r.exit_code, r.err + r.out};
    }
    muster::agent::wire::agent_state state() const {
        auto loaded = muster::agent::wire::state_store(state_dir()).load();
        REQUIRE(loaded.what == muster::agent::wire::load_result::status::loaded);
        return loaded.state;
    }
    std::size_t spooled() const {
        std::size_t n = 0;
        for (const auto& entry : fs::directory_iterator(state_dir() + "/spool"))
            n += entry.path().extension() == ".report";
        return n;
    }
};

struct collector_view {
    std::int64_t last_seq = -1;
    std::string state_hash;
};

collector_view collector_side(const std::string& db_file, const std::string& agent_id) {
    muster::sqlite_database db(db_file, muster::sqlite_open::read_only);
    auto q = db.prepare(
        "SELECT a.last_seq, s.state_hash FROM agents a LEFT JOIN agent_states s USING "
        "(agent_id) WHERE agent_id = ?");
    q.bind(1, agent_id);
    collector_view view;
    if (q.step()) {
        view.last_seq = q.column_int64(0);
        view.state_hash = q.column_is_null(1) ? "" : q.column_text(1);
    }
    return view;
}

// A report signed with the agent's key, posted directly, to see the status and headers.
muster::test::https_response post_signed_report(const installation& inst, const agent& a) {
    auto state = a.state();
    boost::json::object inventory{{"system", {{"hostname", "direct-post"}}}};
    boost::json::object doc{{"protocol", 1},
                            {"agent_id", state.agent_id},
                            {"seq", state.next_seq + 1000},
                            {"sent_at", static_cast<std::int64_t>(std::time(nullptr))},
                            {"kind", "full"},
                            {"base_seq", 0},
                            {"state_hash", muster::state_hash(muster::make_state(inventory))},
                            {"inventory", inventory}};
    auto key = muster::ed25519_key::load_private_pem(a.state_dir() + "/agent.key");
    auto body = muster::gzip_compress(boost::json::serialize(doc));
    return muster::test::https_post(inst.url("/api/v1/reports"),
                                    {{"Content-Type", "application/json"},
                                     {"Content-Encoding", "gzip"},
                                     {"X-Muster-Agent-Id", state.agent_id},
                                     {"X-Muster-Signature", muster::base64_encode(key.sign(body))}},
                                    body, inst.c("ca.pem"));
}

}  // namespace

TEST_CASE("collector disk full: 503 storage_full, logged once, agents spool and retry, none lost") {
    if (::geteuid() != 0) {
        WARN("SKIPPED: mounting a tmpfs needs root");
        return;
    }
    installation inst;
    tmpfs_mount disk(inst.path("db"), "16m");
    if (!disk.mounted()) {
        WARN("SKIPPED: cannot mount a tmpfs: " << disk.problem());
        return;
    }
    auto db_file = inst.path("db/cmdb.sqlite");
    auto config = *muster::read_file(inst.c("collector.yaml"));
    config = std::regex_replace(config, std::regex("\ndatabase:[^\n]*"), "\ndatabase: " + db_file);
    REQUIRE(muster::write_file_atomic(inst.c("collector.yaml"), config, 0600));
    auto collector = inst.start_collector();

    std::vector<agent> agents{{inst, "a"}, {inst, "b"}, {inst, "c"}};
    for (const auto& a : agents) {
        a.configure(a.name + "-start");
        auto [code, log] = a.once();
        INFO(log);
        REQUIRE(code == 0);
    }

    checkpoint_to_empty_wal(db_file);
    auto filler = fill_until_full(inst.path("db/filler"));
    WARN("filled the 16 MiB tmpfs with " << filler << " bytes; " << disk.free_bytes()
                                         << " bytes left");
    REQUIRE(disk.free_bytes() < 4096);

    // Three rounds of changed inventories while full: every report refused, kept, retried.
    for (int round = 1; round <= 3; ++round) {
        for (const auto& a : agents) {
            a.configure(a.name + "-full-" + std::to_string(round));
            auto [code, log] = a.once();
            INFO(a.name << " round " << round << ": " << log);
            CHECK(code != 0);
            CHECK(log.find("status 503 storage_full") != std::string::npos);
            CHECK(a.spooled() == static_cast<std::size_t>(round));
            CHECK(a.state().acked_seq < a.state().last_seq);
        }
    }
    auto direct = post_signed_report(inst, agents[0]);
    INFO(direct.body);
    CHECK(direct.status == 503);
    CHECK(direct.headers["retry-after"] == "30");
    CHECK(direct.body.find("\"storage_full\"") != std::string::npos);

    // A new agent cannot even enroll: the same answer, not a 500.
    agent late{inst, "late"};
    late.configure("late");
    auto [late_code, late_log] = late.once();
    INFO(late_log);
    CHECK(late_code != 0);
    CHECK(late_log.find("storage_full") != std::string::npos);

    // Still serving, one line for the whole burst of refusals, no 500.
    CHECK(collector->wait(200) == -2);
    CHECK(muster::test::https_get(inst.url("/healthz"), inst.c("ca.pem")).status == 200);
    auto full_log = inst.collector_log();
    INFO(full_log);
    CHECK(count_of(full_log, "storage full:") == 1);
    CHECK(count_of(full_log, "503 storage_full:") == 0);  // no refusal line per report
    CHECK(count_of(full_log, "500 internal") == 0);
    CHECK(count_of(full_log, "applying them one by one") == 0);

    REQUIRE(disk.resize("48m"));
    for (const auto& a : agents) {
        a.configure(a.name + "-after");
        auto [code, log] = a.once();
        INFO(a.name << ": " << log);
        REQUIRE(code == 0);
        CHECK(log.find("resync") == std::string::npos);  // each spooled delta applied in turn
        CHECK(log.find("replay") == std::string::npos);
        CHECK(count_of(log, ") acknowledged") == 4);  // three spooled, one new
        auto state = a.state();
        CHECK(state.acked_seq == state.last_seq);
        CHECK(a.spooled() == 0);
        auto seen = collector_side(db_file, state.agent_id);
        CHECK(seen.last_seq == static_cast<std::int64_t>(state.acked_seq));
        CHECK(seen.state_hash == state.acked_state_hash);
    }
    auto [late_again, late_again_log] = late.once();
    INFO(late_again_log);
    CHECK(late_again == 0);
    CHECK(collector_side(db_file, late.state().agent_id).last_seq ==
          static_cast<std::int64_t>(late.state().acked_seq));

    auto after_log = inst.collector_log();
    CHECK(count_of(after_log, "storage available again") == 1);
    collector->signal(SIGTERM);
    CHECK(collector->wait(60000) == 0);
    CHECK(integrity_check(db_file) == "ok");
}
