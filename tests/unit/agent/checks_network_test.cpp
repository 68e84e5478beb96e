// tcp_connect, http and certificate_expiry against real servers on loopback: a
// listening socket and a closed port, python3's http.server, openssl s_server
// with certificates made by openssl for the test (one signed by a test CA, one
// the CA does not vouch for, one expired), and PEM files with chosen validity.
#include "checks_support.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace checks_test;
using muster::test::background_process;
using muster::test::run_shell;
using muster::test::temp_dir;

namespace {

// A test CA and certificates signed by it, made with openssl in dir.
struct pki {
    temp_dir dir;
    std::string path(const std::string& name) const { return dir.path() + "/" + name; }

    pki() {
        auto r = run_shell("set -e; cd " + dir.path() +
                           "; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                           "-nodes "
                           "-keyout ca.key -out ca.pem -subj /CN=muster-test-ca -days 30 "
                           "2>/dev/null"
                           "; printf "
                           "'[ca]\\ndefault_ca=d\\n[d]\\ndatabase=index.txt\\nnew_certs_dir=.\\n"
                           "serial=serial\\ndefault_md=sha256\\npolicy=p\\nunique_subject=no\\n"
                           "copy_extensions=copy\\n[p]\\ncommonName=supplied\\n' > ca.cnf"
                           "; touch index.txt; echo 01 > serial");
        REQUIRE(r.exit_code == 0);
    }
    // A certificate for CN=name with the given SAN, signed by the CA, valid
    // between the two dates (YYYYMMDDHHMMSSZ) or for days from now.
    void issue(const std::string& name, const std::string& san, const std::string& validity) {
        auto r = run_shell("set -e; cd " + dir.path() +
                           "; openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                           "-keyout " +
                           name + ".key -out " + name + ".csr -subj /CN=" + name +
                           " -addext subjectAltName=" + san +
                           " 2>/dev/null; openssl ca -batch -notext -config ca.cnf -cert ca.pem "
                           "-keyfile ca.key -in " +
                           name + ".csr -out " + name + ".pem " + validity + " 2>&1");
        INFO(r.out);
        REQUIRE(r.exit_code == 0);
    }
};

// openssl s_server -www with this certificate on a free loopback port.
struct tls_server {
    int port = muster::test::free_loopback_port();
    std::unique_ptr<background_process> process;
    tls_server(const pki& p, const std::string& name) {
        process = std::make_unique<background_process>(
            std::vector<std::string>{"openssl", "s_server", "-www", "-quiet", "-accept",
                                     "127.0.0.1:" + std::to_string(port), "-cert",
                                     p.path(name + ".pem"), "-key", p.path(name + ".key")},
            p.path(name + "-server.log"));
        REQUIRE(muster::test::wait_for_port(port));
    }
};

std::string http_item(const std::string& url, const std::string& more = "") {
    return "    id: h\n    type: http\n    url: '" + url + "'\n" + more;
}

}  // namespace

TEST_CASE("tcp_connect: a listening socket is ok, a closed port is critical") {
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(listen(listener, 8) == 0);
    socklen_t length = sizeof address;
    getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    auto port = std::to_string(ntohs(address.sin_port));

    auto open = run_check(
        "    id: t\n    type: tcp_connect\n    host: 127.0.0.1\n    port: " + port + "\n");
    CHECK(status_of(open) == "ok");
    CHECK(open.outcome.unit == "ms");
    CHECK(open.outcome.message.starts_with("127.0.0.1:" + port + " accepted a connection in "));
    close(listener);

    auto closed = run_check(
        "    id: t\n    type: tcp_connect\n    host: 127.0.0.1\n    port: " + port + "\n");
    CHECK(status_of(closed) == "critical");
    CHECK(closed.outcome.message == "cannot connect to 127.0.0.1:" + port + ": Connection refused");
    CHECK(!closed.outcome.value);

    auto unresolvable = run_check(
        "    id: t\n    type: tcp_connect\n    host: "
        "no-such-host.invalid\n    port: 80\n");
    CHECK(status_of(unresolvable) == "critical");
    CHECK(unresolvable.outcome.message.starts_with("cannot resolve no-such-host.invalid: "));
}

TEST_CASE("http over plain HTTP: the expected status is ok, another is critical") {
    temp_dir root;
    int port = muster::test::free_loopback_port();
    background_process server({"python3", "-m", "http.server", std::to_string(port), "--bind",
                               "127.0.0.1", "--directory", root.path()},
                              root.path() + "/server.log");
    REQUIRE(muster::test::wait_for_port(port));
    auto base = "http://127.0.0.1:" + std::to_string(port);
    auto ok = run_check(http_item(base + "/"));
    CHECK(status_of(ok) == "ok");
    CHECK(ok.outcome.message.starts_with("HTTP 200 from " + base + "/ in "));
    CHECK(ok.outcome.unit == "ms");
    auto missing = run_check(http_item(base + "/missing?token=s3cret"));
    CHECK(status_of(missing) == "critical");
    CHECK(missing.outcome.message.find("HTTP 404 from ") == 0);
    // A secret in the query string never reaches the result (and so the CMDB and webhooks).
    CHECK(missing.outcome.message.find("s3cret") == std::string::npos);
    CHECK(missing.outcome.message.find(base + "/missing?...") != std::string::npos);
    CHECK(missing.outcome.message.ends_with("(expected 200)"));
    auto expected_404 = run_check(http_item(base + "/missing", "    expected_status: 404\n"));
    CHECK(status_of(expected_404) == "ok");
}

TEST_CASE(
    "http over TLS verifies the certificate: trusted CA, unknown CA, "
    "wrong host") {
    pki p;
    p.issue("good", "IP:127.0.0.1,DNS:localhost", "-days 10");
    p.issue("other", "DNS:other.example", "-days 10");
    tls_server good(p, "good");
    tls_server other(p, "other");
    auto url = "https://127.0.0.1:" + std::to_string(good.port) + "/";

    auto trusted = run_check(http_item(url, "    ca_file: " + p.path("ca.pem") + "\n"));
    CHECK(status_of(trusted) == "ok");
    CHECK(trusted.outcome.message.starts_with("HTTP 200 from " + url));
    auto by_name = run_check(http_item("https://localhost:" + std::to_string(good.port) + "/",
                                       "    ca_file: " + p.path("ca.pem") + "\n"));
    CHECK(status_of(by_name) == "ok");

    // The system's CA store does not know the test CA.
    auto untrusted = run_check(http_item(url));
    CHECK(status_of(untrusted) == "critical");
    CHECK(untrusted.outcome.message ==
          "TLS with 127.0.0.1:" + std::to_string(good.port) +
              ": certificate verify failed: unable to get local issuer "
              "certificate");

    auto wrong_host = run_check(http_item("https://127.0.0.1:" + std::to_string(other.port) + "/",
                                          "    ca_file: " + p.path("ca.pem") + "\n"));
    CHECK(status_of(wrong_host) == "critical");
    CHECK(wrong_host.outcome.message.ends_with("certificate verify failed: IP address mismatch"));

    auto no_ca = run_check(http_item(url, "    ca_file: " + p.path("absent.pem") + "\n"));
    CHECK(status_of(no_ca) == "unknown");
    CHECK(no_ca.outcome.message.starts_with("cannot load the CA file " + p.path("absent.pem")));
}

TEST_CASE("certificate_expiry of PEM files with chosen validity") {
    pki p;
    p.issue("long", "DNS:long.example", "-days 400");
    p.issue("soon", "DNS:soon.example", "-days 20");
    p.issue("expired", "DNS:expired.example",
            "-startdate 20200101000000Z -enddate 20200201000000Z");
    auto item = [&](const std::string& name) {
        return "    id: x\n    type: certificate_expiry\n    file: " + p.path(name + ".pem") + "\n";
    };
    auto long_lived = run_check(item("long"));
    CHECK(status_of(long_lived) == "ok");
    CHECK(*long_lived.outcome.value == Approx(400).margin(0.2));
    CHECK(long_lived.outcome.unit == "d");
    CHECK(long_lived.outcome.message.starts_with("certificate 'long' in " + p.path("long.pem") +
                                                 " expires in 4"));
    auto soon = run_check(item("soon"));
    CHECK(status_of(soon) == "warning");
    CHECK(soon.outcome.message.ends_with("(warning below 30 days)"));
    auto expired = run_check(item("expired"));
    CHECK(status_of(expired) == "critical");
    CHECK(*expired.outcome.value < -300);
    CHECK(expired.outcome.message.find("expired ") != std::string::npos);
    CHECK(expired.outcome.message.find("on 2020-02-01 00:00 UTC") != std::string::npos);

    // A chain is as good as its first certificate to expire: the CA (30 days)
    // before the leaf.
    run_shell("cat " + p.path("long.pem") + " " + p.path("ca.pem") + " > " + p.path("chain.pem"));
    auto chain = run_check(item("chain"));
    CHECK(chain.outcome.message.starts_with("certificate 'muster-test-ca' in "));
    CHECK(*chain.outcome.value == Approx(30).margin(0.2));

    run_shell("echo not a certificate > " + p.path("junk.pem"));
    auto junk = run_check(item("junk"));
    CHECK(status_of(junk) == "unknown");
    CHECK(junk.outcome.message == p.path("junk.pem") + " holds no PEM certificate");
}

TEST_CASE("certificate_expiry of what a TLS server presents, expired included") {
    pki p;
    p.issue("expired", "IP:127.0.0.1", "-startdate 20200101000000Z -enddate 20200201000000Z");
    p.issue("fresh", "IP:127.0.0.1", "-days 90");
    tls_server expired(p, "expired");
    tls_server fresh(p, "fresh");
    auto item = [](int port) {
        return "    id: x\n    type: certificate_expiry\n    host: 127.0.0.1\n    "
               "port: " +
               std::to_string(port) + "\n    warning: 60d\n    critical: 10d\n";
    };
    auto e = run_check(item(expired.port));
    CHECK(status_of(e) == "critical");
    CHECK(e.outcome.message.starts_with(
        "certificate 'expired' of 127.0.0.1:" + std::to_string(expired.port) + " expired "));
    auto f = run_check(item(fresh.port));
    CHECK(status_of(f) == "ok");
    CHECK(*f.outcome.value == Approx(90).margin(0.2));
    int closed = muster::test::free_loopback_port();
    auto nobody = run_check(item(closed));
    CHECK(status_of(nobody) == "critical");
    CHECK(nobody.outcome.message.ends_with("Connection refused"));
}
