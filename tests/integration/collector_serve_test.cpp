// The real muster-collector binary over real TLS on loopback: init, serve, healthz, enroll,
// a signed report, a flipped byte, an untrusted CA, and SIGTERM.
#include "common/crypto.h"
#include "common/gzip.h"
#include "common/inventory_state.h"
#include "support/https_client.h"
#include "support/process.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <thread>

extern char** environ;

namespace {

using namespace muster;
namespace json = boost::json;

// A program running in the background; killed (SIGKILL) if the test did not wait for it.
class background_process {
  public:
    explicit background_process(const std::vector<std::string>& argv, const std::string& log_file) {
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 2, log_file.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0600);
        std::vector<char*> args;
        for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
        args.push_back(nullptr);
        int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        REQUIRE(rc == 0);
    }
    ~background_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    // Sends signal and waits; the exit code, or -1 when killed by a signal.
    int stop(int signal) {
        ::kill(pid_, signal);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

  private:
    pid_t pid_ = -1;
};

std::uint16_t free_loopback_port() {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

// Waits (bounded) until the collector answers; it needs a moment to open its database.
bool wait_until_healthy(const std::string& url, const std::string& ca_file) {
    for (int attempt = 0; attempt < 200; ++attempt) {
        try {
            if (test::https_get(url + "/healthz", ca_file).status == 200) return true;
        } catch (const std::exception&) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

std::string config_value(const std::string& file, const std::string& key) {
    auto text = test::run({"sed", "-n", "s/^ *" + key + ": \"\\(.*\\)\"$/\\1/p", file}).out;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
}

std::string full_report(const std::string& agent_id) {
    json::object inventory{
        {"schema_version", 1},
        {"system", json::object{{"hostname", "itest-1"},
                                {"machine_id", "11112222333344445555666677778888"}}}};
    json::object report{{"protocol", 1},
                        {"agent_id", agent_id},
                        {"seq", 1},
                        {"sent_at", static_cast<std::int64_t>(std::time(nullptr))},
                        {"kind", "full"},
                        {"base_seq", 0},
                        {"state_hash", state_hash(make_state(inventory))},
                        {"inventory", inventory}};
    return gzip_compress(json::serialize(report));
}

test::header_list report_headers(const std::string& agent_id, const std::string& signature) {
    return {{"Content-Type", "application/json"},
            {"Content-Encoding", "gzip"},
            {"X-Muster-Agent-Id", agent_id},
            {"X-Muster-Signature", base64_encode(signature)}};
}

}  // namespace

TEST_CASE("muster-collector serves enrollment and signed reports over TLS", "[collector][serve]") {
    test::temp_dir tmp;
    std::string dir = tmp.path() + "/collector";
    std::string port = std::to_string(free_loopback_port());
    auto init =
        test::run({MUSTER_COLLECTOR_BIN, "init", "--dir", dir, "--listen", "127.0.0.1:" + port});
    REQUIRE(init.exit_code == 0);
    CHECK(init.out.find("muster-collector serve --config " + dir + "/collector.yaml") !=
          std::string::npos);
    auto again = test::run({MUSTER_COLLECTOR_BIN, "init", "--dir", dir});
    CHECK(again.exit_code == 1);
    CHECK(again.err.find("refusing to overwrite") != std::string::npos);

    std::string ca = dir + "/ca.pem";
    std::string url = "https://127.0.0.1:" + port;
    std::string token = config_value(dir + "/agent.yaml", "enrollment_token");
    REQUIRE(token.size() > 20);

    background_process collector(
        {MUSTER_COLLECTOR_BIN, "serve", "--config", dir + "/collector.yaml"},
        tmp.path() + "/collector.log");
    REQUIRE(wait_until_healthy(url, ca));
    // The certificate is also valid for the name localhost.
    CHECK(test::https_get("https://localhost:" + port + "/healthz", ca).status == 200);

    auto key = ed25519_key::generate();
    auto enrolled = test::https_post(
        url + "/api/v1/enroll", {{"Content-Type", "application/json"}},
        json::serialize(json::object{{"token", token},
                                     {"public_key", base64_encode(key.public_raw())},
                                     {"facts", json::object{{"hostname", "itest-1"}}}}),
        ca);
    REQUIRE(enrolled.status == 200);
    std::string agent_id(json::parse(enrolled.body).at("agent_id").as_string());

    std::string body = full_report(agent_id);
    std::string flipped = body;
    flipped[flipped.size() / 2] ^= 0x20;
    auto refused = test::https_post(url + "/api/v1/reports",
                                    report_headers(agent_id, key.sign(body)), flipped, ca);
    CHECK(refused.status == 401);
    CHECK(refused.body.find("bad_signature") != std::string::npos);

    auto acked = test::https_post(url + "/api/v1/reports", report_headers(agent_id, key.sign(body)),
                                  body, ca);
    CHECK(acked.status == 200);
    CHECK(json::parse(acked.body).at("seq") == 1);

    auto bad_token =
        test::https_post(url + "/api/v1/enroll", {},
                         json::serialize(json::object{
                             {"token", "wrong"}, {"public_key", base64_encode(key.public_raw())}}),
                         ca);
    CHECK(bad_token.status == 401);

    CHECK(collector.stop(SIGTERM) == 0);
    auto log = test::run({"cat", tmp.path() + "/collector.log"}).out;
    CHECK(log.find("401 bad_signature") != std::string::npos);
    CHECK(log.find(token) == std::string::npos);  // tokens are never logged
}

TEST_CASE("a client that does not trust the collector's CA fails the handshake",
          "[collector][serve]") {
    test::temp_dir tmp;
    std::string dir = tmp.path() + "/collector";
    std::string port = std::to_string(free_loopback_port());
    REQUIRE(test::run({MUSTER_COLLECTOR_BIN, "init", "--dir", dir, "--listen", "127.0.0.1:" + port})
                .exit_code == 0);
    REQUIRE(test::run({MUSTER_COLLECTOR_BIN, "init", "--dir", tmp.path() + "/other"}).exit_code ==
            0);
    background_process collector(
        {MUSTER_COLLECTOR_BIN, "serve", "--config", dir + "/collector.yaml"},
        tmp.path() + "/collector.log");
    std::string url = "https://127.0.0.1:" + port;
    REQUIRE(wait_until_healthy(url, dir + "/ca.pem"));
    CHECK_THROWS_WITH(test::https_get(url + "/healthz", tmp.path() + "/other/ca.pem"),
                      Catch::Contains("certificate verify failed"));
    CHECK(collector.stop(SIGTERM) == 0);
}

TEST_CASE("muster-collector refuses an invalid configuration with exit code 2",
          "[collector][serve]") {
    test::temp_dir tmp;
    auto file = tmp.path() + "/collector.yaml";
    test::run({"sh", "-c", "printf 'listen: nowhere\\n' > " + file});
    auto result = test::run({MUSTER_COLLECTOR_BIN, "serve", "--config", file});
    CHECK(result.exit_code == 2);
    CHECK(result.err.find("collector.yaml:1:") != std::string::npos);
}

TEST_CASE("backup of a config whose database does not exist is refused, nothing created",
          "[collector][backup]") {
    test::temp_dir tmp;
    auto init = test::run({MUSTER_COLLECTOR_BIN, "init", "--dir", tmp.path() + "/c", "--listen",
                           "127.0.0.1:" + std::to_string(test::free_loopback_port())});
    REQUIRE(init.exit_code == 0);
    auto config = tmp.path() + "/c/collector.yaml";
    auto result = test::run(
        {MUSTER_COLLECTOR_BIN, "backup", "--config", config, "--to", tmp.path() + "/b.sqlite"});
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("no CMDB at " + tmp.path() + "/c/cmdb.sqlite") != std::string::npos);
    CHECK(!std::filesystem::exists(tmp.path() + "/c/cmdb.sqlite"));
    CHECK(!std::filesystem::exists(tmp.path() + "/b.sqlite"));
}
