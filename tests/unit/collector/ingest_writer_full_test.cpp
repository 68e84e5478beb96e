// The ingest writer on a nearly full disk: a real SQLite store on a small tmpfs (root only),
// one batch holding a report too big for the space left and small ones that fit. Each report
// gets its own answer: storage_full for the big one only.
//
// Without the fix the whole batch was answered storage_full, the small reports with it.
#include "collector/ingest_writer.h"
#include "collector/sqlite_store.h"
#include "common/sqlite.h"
#include "support/process.h"
#include "unit/collector/store_test_support.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

namespace {

using namespace muster;
using collector::ingest_reply;
namespace fs = std::filesystem;

// A tmpfs on dir for the length of the test; unmounted lazily, the store may hold files.
class tmpfs_mount {
  public:
    tmpfs_mount(std::string dir, const std::string& size) : dir_(std::move(dir)) {
        fs::create_directories(dir_);
        mounted_ =
            test::run({"mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs", dir_})
                .exit_code == 0;
    }
    ~tmpfs_mount() {
        if (mounted_) test::run({"umount", "-l", dir_});
    }
    tmpfs_mount(const tmpfs_mount&) = delete;
    tmpfs_mount& operator=(const tmpfs_mount&) = delete;
    bool mounted() const { return mounted_; }
    std::uint64_t free_bytes() const {
        struct statvfs s {};
        REQUIRE(::statvfs(dir_.c_str(), &s) == 0);
        return static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize;
    }

  private:
    std::string dir_;
    bool mounted_ = false;
};

// Fills the filesystem holding file to the last byte, then gives `leave` bytes back.
void fill_leaving(const std::string& file, off_t leave) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    std::string chunk(1 << 16, 'x');
    off_t written = 0;
    for (std::size_t size : {std::size_t{1} << 16, std::size_t{4096}, std::size_t{1}}) {
        for (;;) {
            auto n = ::write(fd, chunk.data(), size);
            if (n <= 0) break;
            written += n;
        }
    }
    REQUIRE(written > leave);
    REQUIRE(::ftruncate(fd, written - leave) == 0);
    ::close(fd);
}

// Moves the WAL into the database and truncates it, so that the next commit needs new space.
void checkpoint_to_empty_wal(const std::string& db_file) {
    sqlite_database db(db_file, sqlite_open::read_write);
    db.set_busy_timeout(10000);
    auto q = db.prepare("PRAGMA wal_checkpoint(TRUNCATE)");
    REQUIRE(q.step());
    REQUIRE(q.column_int64(0) == 0);
}

test::host_facts facts_for(const std::string& name, int packages) {
    test::host_facts facts;
    facts.hostname = name;
    facts.machine_id = sha256_hex(name).substr(0, 32);
    facts.product_uuid = sha256_hex(name + "uuid").substr(0, 36);
    facts.serial = "SN-" + name;
    facts.mac = "";
    facts.address = "";
    for (int i = 0; i < packages; ++i) {
        // Incompressible names: the report must need its size on disk.
        facts.packages.emplace_back(sha256_hex(name + std::to_string(i)),
                                    sha256_hex(std::to_string(i)).substr(0, 16));
    }
    return facts;
}

}  // namespace

TEST_CASE("a report too big for the disk left fails alone in its batch", "[collector][ingest]") {
    if (::geteuid() != 0) {
        WARN("SKIPPED: mounting a tmpfs needs root");
        return;
    }
    test::temp_dir tmp;
    tmpfs_mount disk(tmp.path() + "/db", "32m");
    if (!disk.mounted()) {
        WARN("SKIPPED: cannot mount a tmpfs");
        return;
    }
    const std::string db_file = tmp.path() + "/db/cmdb.sqlite";
    auto store = collector::open_sqlite_store(db_file);
    std::vector<collector::verified_report> reports;
    const std::vector<std::pair<std::string, int>> hosts{
        {"big", 20000}, {"small-1", 3}, {"small-2", 3}, {"small-3", 3}};
    for (const auto& [name, packages] : hosts) {
        auto id = store->enroll_agent(test::enrollment_for(name), true, 1000).agent_id;
        reports.push_back(
            test::full_report(id, 1, test::make_inventory(facts_for(name, packages))));
    }
    checkpoint_to_empty_wal(db_file);
    fill_leaving(tmp.path() + "/db/filler", 2 << 20);
    WARN(disk.free_bytes() << " bytes left on the tmpfs");

    // One batch of four: it forms when the fourth is queued.
    collector::ingest_writer writer(*store, {.max_batch = 4, .max_wait = std::chrono::seconds(60)},
                                    [] { return std::int64_t{1'700'000'100}; });
    boost::asio::io_context io;
    std::vector<std::optional<ingest_reply>> replies(reports.size());
    for (std::size_t i = 0; i < reports.size(); ++i) {
        boost::asio::co_spawn(
            io,
            [&, i]() -> boost::asio::awaitable<void> {
                replies[i] = co_await writer.submit(reports[i]);
            },
            boost::asio::detached);
    }
    io.run();
    for (const auto& reply : replies) REQUIRE(reply);

    CHECK(replies[0]->outcome == ingest_reply::kind::storage_full);
    for (std::size_t i = 1; i < replies.size(); ++i) {
        INFO(hosts[i].first);
        CHECK(replies[i]->outcome == ingest_reply::kind::done);
        CHECK(replies[i]->result.status == collector::ingest_status::ok);
    }
    writer.stop();
    store.reset();
}
