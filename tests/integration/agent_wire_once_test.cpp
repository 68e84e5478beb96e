// The real muster-agent's delivery commands without a collector: their exit codes and the
// one log line that says why, and the daemon's signals (SIGHUP reloads, SIGTERM stops).
#include "common/file.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace {

// A loopback port with nothing listening: bound, then released.
int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

std::string write_config(const muster::test::temp_dir& dir, int port, const std::string& extra) {
    auto path = dir.path() + "/agent.yaml";
    std::string text = "collector:\n  url: https://127.0.0.1:" + std::to_string(port) +
                       "\n  ca_fingerprint: " + std::string(64, 'a') +
                       "\n  enrollment_token: secret-token-value\nstate_dir: " + dir.path() +
                       "/state\n" + extra;
    REQUIRE(muster::write_file_atomic(path, text));
    return path;
}

// Waits (bounded, as a hang guard only) until the file contains text.
bool wait_for(const std::string& file, const std::string& text) {
    for (int i = 0; i < 200; ++i) {
        auto content = muster::read_file(file);
        if (content && content->find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

}  // namespace

TEST_CASE("once without a collector section is a config error (exit 2)") {
    muster::test::temp_dir dir;
    auto path = dir.path() + "/agent.yaml";
    REQUIRE(muster::write_file_atomic(path, "tags: [web]\n"));
    auto r = muster::test::run({MUSTER_AGENT_BIN, "once", "--config", path});
    CHECK(r.exit_code == 2);
    CHECK(r.err == "muster-agent: " + path + ":1:1: missing required key 'url' in 'collector'\n");
    auto usage = muster::test::run({MUSTER_AGENT_BIN, "once"});
    CHECK(usage.exit_code == 2);
}

TEST_CASE("once with an unreachable collector exits 1 with one clear line, never the token") {
    muster::test::temp_dir dir;
    int port = free_port();
    auto path = write_config(dir, port, "");
    auto r = muster::test::run({MUSTER_AGENT_BIN, "once", "--config", path});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("[agent] enrollment failed: cannot connect to collector 127.0.0.1:" +
                     std::to_string(port) + ": Connection refused\n") != std::string::npos);
    CHECK(r.err.find("secret-token-value") == std::string::npos);
    // The identity was made and kept private.
    auto key = muster::read_file(dir.path() + "/state/agent.key");
    REQUIRE(key);
    CHECK(key->starts_with("-----BEGIN PRIVATE KEY-----"));
}

TEST_CASE("once with an unreadable CA file says so and exits 1") {
    muster::test::temp_dir dir;
    auto path = dir.path() + "/agent.yaml";
    REQUIRE(muster::write_file_atomic(
        path, "collector:\n  url: https://127.0.0.1:1\n  ca_file: " + dir.path() +
                  "/absent.pem\nstate_dir: " + dir.path() + "/state\n"));
    auto r = muster::test::run({MUSTER_AGENT_BIN, "once", "--config", path});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("cannot load ca_file " + dir.path() + "/absent.pem") != std::string::npos);
}

TEST_CASE("the daemon reloads its config on SIGHUP and stops cleanly on SIGTERM") {
    muster::test::temp_dir dir;
    auto path = write_config(dir, free_port(), "inventory: {interval: 1h, splay: 1h}\n");
    auto log = dir.path() + "/agent.log";
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(fd, 2);
        ::execl(MUSTER_AGENT_BIN, MUSTER_AGENT_BIN, "run", "--config", path.c_str(), nullptr);
        ::_exit(127);
    }
    REQUIRE(wait_for(log, "daemon started"));
    ::kill(pid, SIGHUP);
    CHECK(wait_for(log, "configuration reloaded from " + path));
    ::kill(pid, SIGTERM);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(wait_for(log, "stopping on signal"));
}
