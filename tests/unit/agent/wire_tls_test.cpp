// The agent's HTTPS client against a real TLS server on loopback (Beast, in a thread), with
// a CA and certificates made by the openssl tool: a trusted CA or a pinned fingerprint is
// accepted; a wrong CA, a wrong pin or a certificate for another host is refused, in one
// clear line, before anything is sent.
#include "agent/wire/https_client.h"
#include "support/process.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <thread>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using muster::agent::wire::collector_url;
using muster::agent::wire::http_failure;
using muster::agent::wire::https_client;
using muster::agent::wire::trust_config;

void openssl(const std::string& dir, const std::string& args) {
    auto r = muster::test::run_shell("cd " + dir + " && openssl " + args + " 2>&1");
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
}

// A CA and a server certificate signed by it, for the names in san ("DNS:x,IP:y").
void make_ca(const std::string& dir, const std::string& name) {
    openssl(dir, "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=" +
                     name + " -keyout " + name + ".key -out " + name + ".pem");
}

void make_server_cert(const std::string& dir, const std::string& ca, const std::string& name,
                      const std::string& san) {
    std::ofstream(dir + "/" + name + ".ext") << "subjectAltName=" << san << "\n";
    openssl(dir, "req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=" + name +
                     " -keyout " + name + ".key -out " + name + ".csr");
    openssl(dir, "x509 -req -days 2 -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
                     ".key -CAcreateserial -extfile " + name + ".ext -out " + name + ".pem");
}

// The oracle for the pin: openssl's DER encoding through sha256sum.
std::string fingerprint_of(const std::string& cert) {
    auto r = muster::test::run_shell("openssl x509 -in " + cert + " -outform DER | sha256sum");
    REQUIRE(r.exit_code == 0);
    return r.out.substr(0, 64);
}

// Answers every POST with 200 {"received": <body length>}; one connection at a time.
class tls_test_server {
  public:
    tls_test_server(const std::string& cert, const std::string& key)
        : ssl_(asio::ssl::context::tls_server),
          acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
        ssl_.use_certificate_chain_file(cert);
        ssl_.use_private_key_file(key, asio::ssl::context::pem);
        thread_ = std::thread([this] { serve(); });
    }
    ~tls_test_server() {
        stopping_ = true;
        boost::system::error_code ec;
        tcp::socket wake(io_);
        wake.connect(acceptor_.local_endpoint(), ec);  // unblocks accept()
        thread_.join();
    }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    int connections() const { return connections_; }
    int requests() const { return requests_; }

  private:
    void serve() {
        while (!stopping_) {
            beast::ssl_stream<tcp::socket> stream(io_, ssl_);
            boost::system::error_code ec;
            acceptor_.accept(stream.next_layer(), ec);
            if (ec || stopping_) continue;
            stream.handshake(asio::ssl::stream_base::server, ec);
            if (ec) continue;  // the client refused our certificate
            ++connections_;
            beast::flat_buffer buffer;
            for (;;) {
                http::request<http::string_body> req;
                http::read(stream, buffer, req, ec);
                if (ec) break;
                ++requests_;
                http::response<http::string_body> res{http::status::ok, 11};
                res.set(http::field::content_type, "application/json");
                res.body() = "{\"received\":" + std::to_string(req.body().size()) + "}";
                res.keep_alive(req.keep_alive());
                res.prepare_payload();
                http::write(stream, res, ec);
                if (ec) break;
            }
        }
    }

    asio::io_context io_;
    asio::ssl::context ssl_;
    tcp::acceptor acceptor_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> connections_{0}, requests_{0};
    std::thread thread_;
};

struct pki {
    muster::test::temp_dir dir;
    std::string path(const std::string& name) const { return dir.path() + "/" + name; }
    pki() {
        make_ca(dir.path(), "ca");
        make_ca(dir.path(), "other-ca");
        make_server_cert(dir.path(), "ca", "server", "DNS:localhost,IP:127.0.0.1");
        make_server_cert(dir.path(), "ca", "elsewhere", "DNS:collector.example");
    }
};

collector_url url_for(const std::string& host, unsigned short port) {
    std::string problem;
    auto url = muster::agent::wire::parse_collector_url(
        "https://" + host + ":" + std::to_string(port), &problem);
    REQUIRE(url);
    return *url;
}

muster::agent::wire::http_outcome post_once(const collector_url& url, const trust_config& trust) {
    https_client client(url, trust);
    muster::agent::wire::http_request request;
    request.target = "/api/v1/reports";
    request.body = "hello";
    return client.post(request);
}

}  // namespace

TEST_CASE("a collector certificate signed by the configured CA is trusted, by IP and by name") {
    pki keys;
    tls_test_server server(keys.path("server.pem"), keys.path("server.key"));
    trust_config trust{keys.path("ca.pem"), ""};
    for (const char* host : {"127.0.0.1", "localhost"}) {
        auto outcome = post_once(url_for(host, server.port()), trust);
        INFO(outcome.error);
        REQUIRE(outcome.ok());
        CHECK(outcome.response.status == 200);
        CHECK(outcome.response.body == "{\"received\":5}");
    }
    CHECK(server.requests() == 2);
}

TEST_CASE("a certificate from another CA is refused in one line naming the CA file") {
    pki keys;
    tls_test_server server(keys.path("server.pem"), keys.path("server.key"));
    auto outcome = post_once(url_for("127.0.0.1", server.port()), {keys.path("other-ca.pem"), ""});
    CHECK(outcome.failure == http_failure::untrusted);
    CHECK(outcome.error ==
          "collector certificate not trusted: unable to get local issuer "
          "certificate (ca_file=" +
              keys.path("other-ca.pem") + ")");
    CHECK(server.requests() == 0);
}

TEST_CASE("a certificate for another host name is refused even from the trusted CA") {
    pki keys;
    tls_test_server server(keys.path("elsewhere.pem"), keys.path("elsewhere.key"));
    auto outcome = post_once(url_for("127.0.0.1", server.port()), {keys.path("ca.pem"), ""});
    CHECK(outcome.failure == http_failure::untrusted);
    CHECK(outcome.error == "collector certificate not trusted: IP address mismatch (ca_file=" +
                               keys.path("ca.pem") + ")");
    auto by_name = post_once(url_for("localhost", server.port()), {keys.path("ca.pem"), ""});
    CHECK(by_name.failure == http_failure::untrusted);
    CHECK(by_name.error == "collector certificate not trusted: hostname mismatch (ca_file=" +
                               keys.path("ca.pem") + ")");
    CHECK(server.requests() == 0);
}

TEST_CASE("a pinned fingerprint replaces the CA, and still checks the host name") {
    pki keys;
    auto pin = fingerprint_of(keys.path("server.pem"));
    {
        tls_test_server server(keys.path("server.pem"), keys.path("server.key"));
        auto outcome = post_once(url_for("127.0.0.1", server.port()), {"", pin});
        INFO(outcome.error);
        CHECK(outcome.ok());
        CHECK(outcome.response.status == 200);
    }
    {
        tls_test_server server(keys.path("elsewhere.pem"), keys.path("elsewhere.key"));
        auto wrong_pin = post_once(url_for("127.0.0.1", server.port()), {"", pin});
        CHECK(wrong_pin.failure == http_failure::untrusted);
        CHECK(wrong_pin.error ==
              "collector certificate not trusted: certificate fingerprint " +
                  fingerprint_of(keys.path("elsewhere.pem")) +
                  " does not match the pinned fingerprint (ca_fingerprint=" + pin + ")");
        auto wrong_host = post_once(url_for("127.0.0.1", server.port()),
                                    {"", fingerprint_of(keys.path("elsewhere.pem"))});
        CHECK(wrong_host.failure == http_failure::untrusted);
        CHECK(wrong_host.error.find("certificate is not valid for host 127.0.0.1") !=
              std::string::npos);
        CHECK(server.requests() == 0);
    }
}

TEST_CASE("requests reuse one kept-alive connection") {
    pki keys;
    tls_test_server server(keys.path("server.pem"), keys.path("server.key"));
    https_client client(url_for("127.0.0.1", server.port()), {keys.path("ca.pem"), ""});
    muster::agent::wire::http_request request;
    request.target = "/x";
    for (int i = 0; i < 3; ++i) {
        request.body = std::string(static_cast<std::size_t>(i), 'a');
        auto outcome = client.post(request);
        REQUIRE(outcome.ok());
        CHECK(outcome.response.body == "{\"received\":" + std::to_string(i) + "}");
    }
    CHECK(server.requests() == 3);
    CHECK(server.connections() == 1);
}

TEST_CASE("nothing listening is a network failure naming the collector") {
    pki keys;
    unsigned short port;
    {
        tls_test_server server(keys.path("server.pem"), keys.path("server.key"));
        port = server.port();
    }
    https_client client(url_for("127.0.0.1", port), {keys.path("ca.pem"), ""});
    muster::agent::wire::http_request request;
    request.target = "/x";
    auto outcome = client.post(request);
    CHECK(client.post(request).error == outcome.error);  // a failed connect is not kept
    CHECK(outcome.failure == http_failure::network);
    CHECK(outcome.error ==
          "cannot connect to collector 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}
