// No secret ever reaches a log. A full run at log level trace: init, serve, an agent enrolls
// and reports failing checks (so incidents are opened and webhooks called, one of them
// failing once), a second agent with a wrong enrollment token, musterctl with the admin
// token, a token created, used, revoked and used again, a wrong token. Every log (the
// collector's, the agents' and musterctl's stderr) is then searched for every secret: the
// tokens, the webhooks' secret URL path and routing key, the private keys' PEM bodies and
// their raw bytes in Base64, Base64url and hex.
#include "common/crypto.h"
#include "common/file.h"
#include "support/installation.h"
#include "support/webhook_receiver.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <csignal>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

using muster::test::installation;
using muster::test::process_result;
using muster::test::run;
using muster::test::webhook_receiver;

namespace {

// name -> secret text; a log holding any of them leaks.
using secret_list = std::map<std::string, std::string>;

std::string quoted_value(const std::string& file, const std::string& key) {
    auto text = muster::read_file(file);
    REQUIRE(text);
    std::smatch m;
    REQUIRE(std::regex_search(*text, m, std::regex("\n\\s*" + key + ": \"([^\"]+)\"")));
    return m[1];
}

std::string base64url(std::string text) {
    for (char& c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!text.empty() && text.back() == '=') text.pop_back();
    return text;
}

// The raw private key: Ed25519's 32-byte seed, or an EC key's private scalar.
std::string raw_private_key(const std::string& pem_file) {
    auto pem = muster::read_file(pem_file);
    REQUIRE(pem);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())), &BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
    REQUIRE(key);
    if (EVP_PKEY_is_a(key.get(), "ED25519")) {
        std::string raw(32, '\0');
        std::size_t size = raw.size();
        REQUIRE(EVP_PKEY_get_raw_private_key(
                    key.get(), reinterpret_cast<unsigned char*>(raw.data()), &size) == 1);
        raw.resize(size);
        return raw;
    }
    BIGNUM* scalar = nullptr;
    REQUIRE(EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_PRIV_KEY, &scalar) == 1);
    std::string raw(static_cast<std::size_t>(BN_num_bytes(scalar)), '\0');
    BN_bn2bin(scalar, reinterpret_cast<unsigned char*>(raw.data()));
    BN_clear_free(scalar);
    return raw;
}

// A private key file's secrets: each line of its PEM body, and its raw bytes encoded.
void add_key_secrets(secret_list& secrets, const std::string& name, const std::string& file) {
    auto pem = muster::read_file(file);
    REQUIRE(pem);
    std::regex body_line("\n([A-Za-z0-9+/=]{16,})(?=\n)");
    int n = 0;
    for (auto it = std::sregex_iterator(pem->begin(), pem->end(), body_line);
         it != std::sregex_iterator(); ++it) {
        secrets[name + " PEM line " + std::to_string(++n)] = (*it)[1];
    }
    REQUIRE(n > 0);
    auto raw = raw_private_key(file);
    REQUIRE(raw.size() >= 28);
    secrets[name + " raw base64"] = muster::base64_encode(raw);
    secrets[name + " raw base64url"] = base64url(muster::base64_encode(raw));
    secrets[name + " raw hex"] = muster::hex_encode(raw);
}

// The names of the secrets found in text.
std::vector<std::string> leaks(const std::string& text, const secret_list& secrets) {
    std::vector<std::string> found;
    for (const auto& [name, secret] : secrets) {
        if (text.find(secret) != std::string::npos) found.push_back(name);
    }
    return found;
}

struct full_run {
    installation inst;
    webhook_receiver receiver;
    std::string hook_secret = muster::random_token(18);
    std::string routing_key = muster::random_token(24);
    std::string wrong_enrollment_token = muster::random_token();
    std::string wrong_admin_token = muster::random_token();
    std::string viewer_token;
    std::string logs;  // everything logged by every program of the run

    full_run() {
        inst.replace_tail("collector.yaml", "log",
                          "log:\n  level: trace\n  format: text\n" + notifications() +
                              "incidents:\n  open_after: 1\n");
        inst.append("agent.yaml",
                    "log:\n  level: trace\n"
                    "checks:\n"
                    "  - id: always-critical\n"
                    "    type: command\n"
                    "    argv: [/bin/sh, -c, \"exit 2\"]\n");
        // Every webhook refuses its first delivery, so the retry path logs too.
        receiver.answer_next({500, 500, 500});
        auto collector = inst.start_collector();

        agent_once(inst.c("agent.yaml"));
        agent_once(inst.c("agent.yaml"));
        bad_agent();
        musterctl_session();
        // Three webhooks, each refused once then accepted: at least six requests.
        CHECK(receiver.wait_for(6));

        collector->signal(SIGTERM);
        CHECK(collector->wait() == 0);
        logs += inst.collector_log();
    }

    std::string notifications() const {
        return "notifications:\n"
               "  webhooks:\n"
               "    - name: plain\n"
               "      url: " +
               receiver.url("/json/" + hook_secret) +
               "\n"
               "    - name: chat\n"
               "      format: slack\n"
               "      url: " +
               receiver.url("/services/" + hook_secret) +
               "\n"
               "    - name: pager\n"
               "      format: pagerduty\n"
               "      url: " +
               receiver.url("/pagerduty") +
               "\n"
               "      routing_key: " +
               routing_key +
               "\n"
               "  retry:\n"
               "    initial: 200ms\n"
               "    max: 1s\n"
               "  poll_interval: 200ms\n";
    }

    void agent_once(const std::string& config) {
        auto r = run({MUSTER_AGENT_BIN, "once", "--config", config});
        logs += r.err + r.out;
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
    }

    // An agent with a wrong enrollment token: refused, and it says so without the token.
    void bad_agent() {
        auto text = muster::read_file(inst.c("agent.yaml"));
        REQUIRE(text);
        auto wrong = std::regex_replace(*text, std::regex("enrollment_token: \"[^\"]*\""),
                                        "enrollment_token: \"" + wrong_enrollment_token + "\"");
        wrong = std::regex_replace(wrong, std::regex("\nstate_dir: [^\n]*"),
                                   "\nstate_dir: \"" + inst.path("bad-agent") + "\"");
        REQUIRE(muster::write_file_atomic(inst.path("bad-agent.yaml"), wrong));
        auto r = run({MUSTER_AGENT_BIN, "once", "--config", inst.path("bad-agent.yaml")});
        logs += r.err + r.out;
        CHECK(r.exit_code != 0);
    }

    // musterctl with a clean environment; its stderr is a log, and so is its stdout except
    // where showing a token is the point (token create).
    process_result ctl(std::vector<std::string> args, const std::string& token = "") {
        std::vector<std::string> argv = {"/usr/bin/env",
                                         "-u",
                                         "MUSTER_TOKEN",
                                         "HOME=" + inst.path(""),
                                         "MUSTER_URL=" + inst.url(""),
                                         "MUSTER_CA_FILE=" + inst.c("ca.pem")};
        if (!token.empty()) argv.push_back("MUSTER_TOKEN=" + token);
        argv.push_back(MUSTER_CTL_BIN);
        if (token.empty()) argv.insert(argv.end(), {"--config", inst.c("ctl.yaml")});
        argv.insert(argv.end(), args.begin(), args.end());
        auto r = run(argv);
        logs += r.err;
        return r;
    }

    void musterctl_session() {
        auto hosts = ctl({"hosts"});
        logs += hosts.out;
        CHECK(hosts.exit_code == 0);
        auto made = ctl({"--format", "json", "token", "create", "reader", "--role", "viewer"});
        REQUIRE(made.exit_code == 0);
        auto item = boost::json::parse(made.out).as_object();
        viewer_token = std::string(item.at("token").as_string());
        auto id = std::to_string(item.at("id").as_int64());

        auto viewed = ctl({"incidents"}, viewer_token);
        logs += viewed.out;
        CHECK(viewed.exit_code == 0);
        auto wrong = ctl({"hosts"}, wrong_admin_token);
        logs += wrong.out;
        CHECK(wrong.exit_code == 4);
        auto revoked = ctl({"token", "revoke", id});
        logs += revoked.out;
        CHECK(revoked.exit_code == 0);
        auto after = ctl({"hosts"}, viewer_token);
        logs += after.out;
        CHECK(after.exit_code == 4);
    }

    secret_list secrets() const {
        secret_list s = {
            {"enrollment token", quoted_value(inst.c("agent.yaml"), "enrollment_token")},
            {"admin token", quoted_value(inst.c("ctl.yaml"), "token")},
            {"viewer token", viewer_token},
            {"wrong enrollment token", wrong_enrollment_token},
            {"wrong admin token", wrong_admin_token},
            {"webhook URL secret", hook_secret},
            {"PagerDuty routing key", routing_key}};
        add_key_secrets(s, "ca.key", inst.c("ca.key"));
        add_key_secrets(s, "server.key", inst.c("server.key"));
        add_key_secrets(s, "agent.key", inst.c("agent-state/agent.key"));
        return s;
    }
};

}  // namespace

TEST_CASE("a full run at log level trace logs no token, webhook secret or private key") {
    full_run r;
    auto secrets = r.secrets();
    REQUIRE(!r.viewer_token.empty());

    // The run did what it should, and said so in its logs: they are worth searching.
    INFO(r.logs);
    CHECK(r.logs.find("enrolled agent") != std::string::npos);
    CHECK(r.logs.find("created viewer token") != std::string::npos);
    CHECK(r.logs.find("revoked token") != std::string::npos);
    CHECK(r.logs.find("enrollment refused") != std::string::npos);
    CHECK(r.logs.find("not delivered") != std::string::npos);
    CHECK(r.logs.find(" debug [") != std::string::npos);  // info alone would not show it
    auto requests = r.receiver.requests();
    bool routing_key_sent = false;
    for (const auto& request : requests) {
        routing_key_sent |= request.body.find(r.routing_key) != std::string::npos;
    }
    CHECK(routing_key_sent);  // the routing key is live, yet never logged

    // The search finds each secret when it is there, so an empty result means something.
    for (const auto& [name, secret] : secrets) {
        INFO(name);
        auto planted = r.logs + "\n2026-01-01T00:00:00.000Z debug [api] value " + secret + "\n";
        CHECK(leaks(planted, {{name, secret}}).size() == 1);
    }

    auto found = leaks(r.logs, secrets);
    for (const auto& name : found) {
        INFO("the logs hold the " << name);
        CHECK(false);
    }
    CHECK(found.empty());
    WARN("searched " << r.logs.size() << " bytes of logs for " << secrets.size() << " secrets");
}
