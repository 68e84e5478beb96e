// sslscan (Debian's package) against a real collector on loopback: what a scanner on the
// network sees of its TLS. The policy asserted here is the one docs/security.md states.
#include "support/installation.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <map>
#include <regex>
#include <string>
#include <vector>

using muster::test::installation;
using muster::test::run;
using muster::test::run_shell;

namespace {

// One XML element of sslscan's report, attributes by name.
using element = std::map<std::string, std::string>;

std::vector<element> elements_named(const std::string& xml, const std::string& name) {
    std::vector<element> found;
    std::regex tag("<" + name + "\\s([^>]*?)/?>");
    std::regex attribute("([a-z_-]+)=\"([^\"]*)\"");
    for (auto it = std::sregex_iterator(xml.begin(), xml.end(), tag); it != std::sregex_iterator();
         ++it) {
        element e;
        std::string attributes = (*it)[1];
        for (auto a = std::sregex_iterator(attributes.begin(), attributes.end(), attribute);
             a != std::sregex_iterator(); ++a) {
            e[(*a)[1]] = (*a)[2];
        }
        found.push_back(std::move(e));
    }
    return found;
}

bool sslscan_available() {
    return run_shell("command -v sslscan >/dev/null 2>&1").exit_code == 0;
}

std::string scan(int port) {
    // A generous socket timeout (default 3 s): on a loaded machine a slow handshake must not
    // read as a disabled protocol.
    auto result = run(
        {"sslscan", "--no-colour", "--timeout=30", "--xml=-", "127.0.0.1:" + std::to_string(port)});
    INFO(result.out << result.err);
    REQUIRE(result.exit_code == 0);
    REQUIRE(result.out.find("</document>") != std::string::npos);
    return result.out;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// The cipher policy: TLS 1.3's AEAD suites; for TLS 1.2 only ECDHE key exchange with an AEAD
// (GCM or ChaCha20-Poly1305), so no CBC, no SHA-1 MAC, no RSA key transport, nothing weak.
bool cipher_allowed(const std::string& version, const std::string& name) {
    for (const char* banned : {"NULL", "EXPORT", "EXP-", "RC4", "DES", "MD5", "ADH", "AECDH",
                               "anon", "PSK", "SRP", "CBC", "CAMELLIA", "ARIA", "SEED", "IDEA"}) {
        if (contains(name, banned)) return false;
    }
    if (version == "TLSv1.3") {
        return name == "TLS_AES_128_GCM_SHA256" || name == "TLS_AES_256_GCM_SHA384" ||
               name == "TLS_CHACHA20_POLY1305_SHA256";
    }
    if (version != "TLSv1.2") return false;
    bool aead = contains(name, "-GCM-") || contains(name, "CHACHA20-POLY1305");
    return name.starts_with("ECDHE-") && aead;
}

}  // namespace

TEST_CASE("the cipher policy itself refuses what it must refuse") {
    // So that the scan below could fail: the names sslscan prints for weak ciphers.
    CHECK_FALSE(cipher_allowed("TLSv1.2", "ECDHE-ECDSA-AES128-SHA"));
    CHECK_FALSE(cipher_allowed("TLSv1.2", "ECDHE-ECDSA-AES256-SHA384"));
    CHECK_FALSE(cipher_allowed("TLSv1.2", "AES128-GCM-SHA256"));
    CHECK_FALSE(cipher_allowed("TLSv1.2", "DHE-RSA-AES128-GCM-SHA256"));
    CHECK_FALSE(cipher_allowed("TLSv1.2", "ECDHE-RSA-DES-CBC3-SHA"));
    CHECK_FALSE(cipher_allowed("TLSv1.2", "ECDHE-RSA-RC4-SHA"));
    CHECK_FALSE(cipher_allowed("TLSv1.2", "AECDH-AES128-SHA"));
    CHECK_FALSE(cipher_allowed("TLSv1.2", "ECDHE-ECDSA-NULL-SHA"));
    CHECK_FALSE(cipher_allowed("TLSv1.1", "ECDHE-ECDSA-AES128-GCM-SHA256"));
    CHECK(cipher_allowed("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"));
    CHECK(cipher_allowed("TLSv1.2", "ECDHE-ECDSA-CHACHA20-POLY1305"));
    CHECK(cipher_allowed("TLSv1.3", "TLS_AES_256_GCM_SHA384"));

    std::string sample =
        R"(<protocol type="tls" version="1.2" enabled="1" />)"
        R"(<cipher status="accepted" sslversion="TLSv1.2" bits="128" cipher="X" />)";
    REQUIRE(elements_named(sample, "protocol").size() == 1);
    CHECK(elements_named(sample, "protocol")[0]["version"] == "1.2");
    CHECK(elements_named(sample, "cipher")[0]["bits"] == "128");
}

TEST_CASE("sslscan sees TLS 1.2 and 1.3 only, AEAD ciphers with ECDHE, no renegotiation") {
    if (!sslscan_available()) {
        WARN("SKIPPED: sslscan is not installed (installers/deps-debian.sh installs it)");
        return;
    }
    installation inst;
    auto collector = inst.start_collector();
    std::string xml = scan(inst.port);
    INFO(xml);

    std::map<std::string, std::string> enabled;  // "tls 1.2" -> "1"
    for (auto& p : elements_named(xml, "protocol"))
        enabled[p["type"] + " " + p["version"]] = p["enabled"];
    CHECK(enabled["ssl 2"] == "0");
    CHECK(enabled["ssl 3"] == "0");
    CHECK(enabled["tls 1.0"] == "0");
    CHECK(enabled["tls 1.1"] == "0");
    CHECK(enabled["tls 1.2"] == "1");
    CHECK(enabled["tls 1.3"] == "1");

    auto ciphers = elements_named(xml, "cipher");
    REQUIRE(!ciphers.empty());
    bool tls12_seen = false, tls13_seen = false;
    for (auto& c : ciphers) {
        INFO(c["sslversion"] << " " << c["cipher"] << " strength " << c["strength"]);
        CHECK(cipher_allowed(c["sslversion"], c["cipher"]));
        CHECK(std::stoi(c["bits"]) >= 128);
        CHECK((c["strength"] == "strong" || c["strength"] == "acceptable"));
        tls12_seen |= c["sslversion"] == "TLSv1.2";
        tls13_seen |= c["sslversion"] == "TLSv1.3";
    }
    CHECK(tls12_seen);
    CHECK(tls13_seen);

    // Key exchange groups: elliptic curves of 128-bit strength or more, no ffdhe.
    auto groups = elements_named(xml, "group");
    CHECK(!groups.empty());
    for (auto& g : groups) {
        INFO(g["sslversion"] << " group " << g["name"]);
        CHECK(std::stoi(g["bits"]) >= 128);
        CHECK_FALSE(contains(g["name"], "ffdhe"));
    }

    // Renegotiation: not supported at all (SSL_OP_NO_RENEGOTIATION), so never insecure.
    auto renegotiation = elements_named(xml, "renegotiation");
    REQUIRE(renegotiation.size() == 1);
    CHECK(renegotiation[0]["supported"] == "0");

    for (auto& h : elements_named(xml, "heartbleed")) CHECK(h["vulnerable"] == "0");

    // Debian's sslscan is built without zlib and cannot test compression; when a build that
    // can says anything, it must be "not supported". The collector sets SSL_OP_NO_COMPRESSION
    // and Debian's OpenSSL 3 has no compression method anyway (docs/security.md).
    auto compression = elements_named(xml, "compression");
    if (compression.empty()) {
        WARN("this sslscan cannot test TLS compression (built without zlib)");
    }
    for (auto& c : compression) CHECK(c["supported"] == "0");

    // The certificate init made: ECDSA P-256 signed with SHA-256, nothing weaker.
    CHECK(contains(xml, "<signature-algorithm>ecdsa-with-SHA256</signature-algorithm>"));

    collector->signal(SIGTERM);
    CHECK(collector->wait() == 0);
}
