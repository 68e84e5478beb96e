// The collector as an unprivileged user (nobody, through util-linux's setpriv) with its
// state in a directory that user owns: init, serve, an agent enrolls and reports, musterctl
// creates a token, a backup is taken. Then every file the collector made is walked: owned by
// that user, files 0600, directories 0700; tokens are kept only as hashes. The test process
// runs with umask 000, so only the programs' own care makes the modes private.
// Needs root (CI runs as root); skipped with a visible message otherwise.
#include "common/crypto.h"
#include "common/file.h"
#include "common/sqlite.h"
#include "support/process.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

using muster::test::background_process;
using muster::test::run;

namespace {

namespace fs = std::filesystem;

constexpr const char* user_name = "nobody";
constexpr const char* group_name = "nogroup";

// The build tree may sit below a directory closed to others (a clone in /root), so the user
// runs copies of the programs from a directory open to it, made once per test process.
std::string runnable_by_user(const std::string& program) {
    struct program_dir {
        fs::path path =
            fs::temp_directory_path() / ("muster-programs-" + std::to_string(::getpid()));
        program_dir() {
            fs::create_directories(path);
            fs::permissions(path, fs::perms::owner_all | fs::perms::group_read |
                                      fs::perms::group_exec | fs::perms::others_read |
                                      fs::perms::others_exec);
        }
        ~program_dir() {
            std::error_code ignored;
            fs::remove_all(path, ignored);
        }
    };
    static const program_dir dir;
    auto copy = dir.path / fs::path(program).filename();
    if (!fs::exists(copy)) fs::copy_file(program, copy);
    return copy.string();
}

std::vector<std::string> as_user(std::vector<std::string> argv) {
    argv[0] = runnable_by_user(argv[0]);
    argv.insert(argv.begin(), {"setpriv", std::string("--reuid=") + user_name,
                               std::string("--regid=") + group_name, "--clear-groups"});
    return argv;
}

bool can_switch_user() {
    if (::geteuid() != 0) {
        WARN("SKIPPED: needs root to run the collector as " << user_name);
        return false;
    }
    if (!::getpwnam(user_name) || !::getgrnam(group_name) ||
        run({"setpriv", "--version"}).exit_code != 0) {
        WARN("SKIPPED: no user " << user_name << ", group " << group_name << " or setpriv");
        return false;
    }
    if (run(as_user({MUSTER_COLLECTOR_BIN, "version"})).exit_code != 0) {
        WARN("SKIPPED: " << user_name << " cannot run " << MUSTER_COLLECTOR_BIN
                         << " (a directory above it is not open to others)");
        return false;
    }
    return true;
}

// Sets the umask for the scope: the programs under test inherit it.
class scoped_umask {
  public:
    explicit scoped_umask(mode_t mask) : saved_(::umask(mask)) {}
    ~scoped_umask() { ::umask(saved_); }
    scoped_umask(const scoped_umask&) = delete;
    scoped_umask& operator=(const scoped_umask&) = delete;

  private:
    mode_t saved_;
};

struct entry {
    std::string path;
    bool directory = false;
    unsigned mode = 0;
    uid_t owner = 0;
};

std::vector<entry> walk(const std::string& root) {
    std::vector<entry> entries;
    auto add = [&](const fs::path& path) {
        struct stat st {};
        REQUIRE(::lstat(path.c_str(), &st) == 0);
        entries.push_back({path.string(), S_ISDIR(st.st_mode), st.st_mode & 07777u, st.st_uid});
    };
    add(root);
    for (const auto& item : fs::recursive_directory_iterator(root)) add(item.path());
    return entries;
}

std::string octal(unsigned mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", mode);
    return text;
}

// Every entry private to its owner: files 0600, directories 0700.
void check_private(const std::vector<entry>& entries) {
    for (const auto& e : entries) {
        INFO(e.path << " has mode " << octal(e.mode));
        CHECK(e.mode == (e.directory ? 0700u : 0600u));
    }
}

std::string quoted_value(const std::string& file, const std::string& key) {
    auto text = muster::read_file(file);
    REQUIRE(text);
    std::smatch m;
    REQUIRE(std::regex_search(*text, m, std::regex("\n\\s*" + key + ": \"([^\"]+)\"")));
    return m[1];
}

bool file_contains(const std::string& file, const std::string& needle) {
    auto bytes = muster::read_file(file, std::size_t{1} << 30);
    REQUIRE(bytes);
    return bytes->find(needle) != std::string::npos;
}

struct unprivileged_installation {
    muster::test::temp_dir dir;
    int port = muster::test::free_loopback_port();
    uid_t uid = ::getpwnam(user_name)->pw_uid;

    std::string path(const std::string& name) const { return dir.path() + "/" + name; }
    std::string c(const std::string& name) const { return path("c/" + name); }

    unprivileged_installation() {
        REQUIRE(::chown(dir.path().c_str(), uid, ::getgrnam(group_name)->gr_gid) == 0);
        auto init = run(as_user({MUSTER_COLLECTOR_BIN, "init", "--dir", c(""), "--listen",
                                 "127.0.0.1:" + std::to_string(port)}));
        INFO(init.out << init.err);
        REQUIRE(init.exit_code == 0);
        // The agent runs as root, as it does on every machine, with its state outside the
        // collector's directory.
        auto agent_yaml = muster::read_file(c("agent.yaml"));
        REQUIRE(agent_yaml);
        auto moved = std::regex_replace(*agent_yaml, std::regex("\nstate_dir: [^\n]*"),
                                        "\nstate_dir: \"" + path("agent-state") + "\"");
        REQUIRE(muster::write_file_atomic(path("agent.yaml"), moved));
    }

    std::unique_ptr<background_process> serve() const {
        auto p = std::make_unique<background_process>(
            as_user({MUSTER_COLLECTOR_BIN, "serve", "--config", c("collector.yaml")}),
            path("collector.log"));
        REQUIRE(muster::test::wait_for_port(port));
        return p;
    }

    std::string collector_log() const {
        auto text = muster::read_file(path("collector.log"));
        return text ? *text : std::string();
    }
};

}  // namespace

TEST_CASE("as nobody, every file the collector makes is private and tokens are only hashes") {
    if (!can_switch_user()) return;
    scoped_umask permissive(0);
    unprivileged_installation inst;
    auto collector = inst.serve();

    auto agent = run({MUSTER_AGENT_BIN, "once", "--config", inst.path("agent.yaml")});
    INFO(agent.out << agent.err);
    REQUIRE(agent.exit_code == 0);

    auto made = run(as_user({MUSTER_CTL_BIN, "--config", inst.c("ctl.yaml"), "--format", "json",
                             "token", "create", "reader", "--role", "viewer"}));
    INFO(made.out << made.err);
    REQUIRE(made.exit_code == 0);
    std::string viewer_token(boost::json::parse(made.out).at("token").as_string());

    auto backup = run(as_user({MUSTER_COLLECTOR_BIN, "backup", "--config", inst.c("collector.yaml"),
                               "--to", inst.c("backup.sqlite")}));
    INFO(backup.out << backup.err);
    REQUIRE(backup.exit_code == 0);

    // While it serves: the database is in WAL mode, so -wal and -shm exist beside it.
    auto running = walk(inst.c(""));
    std::set<std::string> names;
    for (const auto& e : running) names.insert(fs::path(e.path).filename().string());
    for (const char* expected :
         {"cmdb.sqlite", "cmdb.sqlite-wal", "cmdb.sqlite-shm", "backup.sqlite", "ca.key", "ca.pem",
          "server.key", "server.pem", "collector.yaml", "agent.yaml", "ctl.yaml", "agent-state"}) {
        INFO("expected " << expected << " in the collector's directory");
        CHECK(names.contains(expected));
    }
    check_private(running);
    for (const auto& e : running) {
        INFO(e.path);
        CHECK(e.owner == inst.uid);
    }
    CHECK(inst.collector_log().find("running as root") == std::string::npos);

    // The agent's identity: its state directory 0700, agent.key 0600, all of it private.
    auto agent_state = walk(inst.path("agent-state"));
    bool key_seen = false;
    for (const auto& e : agent_state) key_seen |= fs::path(e.path).filename() == "agent.key";
    CHECK(key_seen);
    check_private(agent_state);

    collector->signal(SIGTERM);
    REQUIRE(collector->wait() == 0);
    check_private(walk(inst.c("")));

    // Tokens: plaintext only in the two files init writes for their users (agent.yaml holds
    // the enrollment token, ctl.yaml the admin token, both 0600 as checked above). The
    // database, its backup and collector.yaml hold hashes only.
    std::map<std::string, std::string> tokens = {
        {"enrollment", quoted_value(inst.c("agent.yaml"), "enrollment_token")},
        {"admin", quoted_value(inst.c("ctl.yaml"), "token")},
        {"viewer", viewer_token}};
    std::map<std::string, std::set<std::string>> plaintext_in;  // token -> files holding it
    for (const auto& e : walk(inst.c(""))) {
        if (e.directory) continue;
        for (const auto& [what, token] : tokens) {
            if (file_contains(e.path, token)) {
                plaintext_in[what].insert(fs::path(e.path).filename().string());
            }
        }
    }
    CHECK(plaintext_in["enrollment"] == std::set<std::string>{"agent.yaml"});
    CHECK(plaintext_in["admin"] == std::set<std::string>{"ctl.yaml"});
    CHECK(plaintext_in["viewer"].empty());
    // ... and the hashes are where the collector looks for them, so the bytes searched above
    // are the ones that matter.
    CHECK(file_contains(inst.c("collector.yaml"), muster::sha256_hex(tokens["enrollment"])));
    CHECK(file_contains(inst.c("collector.yaml"), muster::sha256_hex(tokens["admin"])));
    muster::sqlite_database db(inst.c("cmdb.sqlite"), muster::sqlite_open::read_only);
    auto q = db.prepare("SELECT count(*) FROM api_tokens WHERE token_sha256 = ?");
    q.bind(1, muster::sha256_hex(viewer_token));
    REQUIRE(q.step());
    CHECK(q.column_int64(0) == 1);
}

TEST_CASE("the collector started as root says so in a warning") {
    if (::geteuid() != 0) {
        WARN("SKIPPED: not running as root");
        return;
    }
    muster::test::temp_dir dir;
    int port = muster::test::free_loopback_port();
    auto init = run({MUSTER_COLLECTOR_BIN, "init", "--dir", dir.path() + "/c", "--listen",
                     "127.0.0.1:" + std::to_string(port)});
    REQUIRE(init.exit_code == 0);
    std::string log_file = dir.path() + "/collector.log";
    background_process collector(
        {MUSTER_COLLECTOR_BIN, "serve", "--config", dir.path() + "/c/collector.yaml"}, log_file);
    REQUIRE(muster::test::wait_for_port(port));
    collector.signal(SIGTERM);
    CHECK(collector.wait() == 0);
    auto log = muster::read_file(log_file);
    REQUIRE(log);
    INFO(*log);
    CHECK(log->find("warn [collector] running as root") != std::string::npos);
}
