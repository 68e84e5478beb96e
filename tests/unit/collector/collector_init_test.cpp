// `muster-collector init` outputs, checked with OpenSSL's own chain verification.
#include "collector/config.h"
#include "collector/init.h"
#include "common/config.h"
#include "common/crypto.h"
#include "common/file.h"
#include "common/openssl_handles.h"
#include "support/process.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <filesystem>

namespace {

using namespace muster;
using namespace muster::collector;
namespace fs = std::filesystem;

using x509_store_ptr = std::unique_ptr<X509_STORE, openssl_deleter<&X509_STORE_free>>;
using x509_store_ctx_ptr = std::unique_ptr<X509_STORE_CTX, openssl_deleter<&X509_STORE_CTX_free>>;

x509_ptr load_certificate(const fs::path& path) {
    auto pem = read_file(path);
    REQUIRE(pem);
    bio_ptr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
    x509_ptr certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    REQUIRE(certificate);
    return certificate;
}

// X509_verify_cert of leaf against ca as the only trust anchor, for the TLS server purpose.
bool verifies(X509* leaf, X509* ca) {
    x509_store_ptr store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), ca);
    x509_store_ctx_ptr context(X509_STORE_CTX_new());
    X509_STORE_CTX_init(context.get(), store.get(), leaf, nullptr);
    X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_SSL_SERVER);
    return X509_verify_cert(context.get()) == 1;
}

bool has_host(X509* certificate, const std::string& host) {
    return X509_check_host(certificate, host.data(), host.size(), 0, nullptr) == 1;
}

bool has_ip(X509* certificate, const std::string& ip) {
    return X509_check_ip_asc(certificate, ip.c_str(), 0) == 1;
}

unsigned mode_of(const fs::path& path) {
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    return info.st_mode & 07777;
}

}  // namespace

TEST_CASE("init creates private files, a CA and a server certificate for the listen host",
          "[collector][init]") {
    test::temp_dir tmp;
    fs::path dir = fs::path(tmp.path()) / "collector";
    auto result = initialize_installation(dir, {"10.1.2.3", 9443});

    CHECK(mode_of(dir) == 0700);
    CHECK(mode_of(dir / "agent-state") == 0700);
    for (const char* name : {"ca.pem", "ca.key", "server.pem", "server.key", "collector.yaml",
                             "agent.yaml", "ctl.yaml"}) {
        INFO(name);
        CHECK(mode_of(dir / name) == 0600);
    }
    CHECK(result.url == "https://10.1.2.3:9443");

    auto ca = load_certificate(dir / "ca.pem");
    auto server = load_certificate(dir / "server.pem");
    CHECK(verifies(server.get(), ca.get()));
    CHECK(has_ip(server.get(), "10.1.2.3"));
    CHECK(has_ip(server.get(), "127.0.0.1"));
    CHECK(has_ip(server.get(), "::1"));
    CHECK(has_host(server.get(), "localhost"));
    CHECK(!has_host(server.get(), "example.org"));
    CHECK(!has_ip(server.get(), "10.1.2.4"));

    // A certificate from a different installation's CA does not verify against this one.
    auto other = initialize_installation(fs::path(tmp.path()) / "other", {"10.1.2.3", 9443});
    CHECK(!verifies(load_certificate(other.dir / "server.pem").get(), ca.get()));
}

TEST_CASE("init writes configurations that load, with only token hashes in collector.yaml",
          "[collector][init]") {
    test::temp_dir tmp;
    fs::path dir = fs::path(tmp.path()) / "c";
    auto result = initialize_installation(dir, {"cmdb.example.org", 8443});

    auto config = load_collector_config(dir / "collector.yaml");
    CHECK(config.listen.host == "cmdb.example.org");
    CHECK(config.tls_cert_file == dir / "server.pem");
    CHECK(config.tls_key_file == dir / "server.key");
    CHECK(config.database == dir / "cmdb.sqlite");
    CHECK(config.enrollment_token_sha256 ==
          std::vector<std::string>{sha256_hex(result.enrollment_token)});
    CHECK(config.admin_token_sha256 == std::vector<std::string>{sha256_hex(result.admin_token)});
    auto collector_text = read_file(dir / "collector.yaml");
    CHECK(collector_text->find(result.enrollment_token) == std::string::npos);
    CHECK(collector_text->find(result.admin_token) == std::string::npos);
    CHECK(has_host(load_certificate(dir / "server.pem").get(), "cmdb.example.org"));

    read_config(load_yaml_file(dir / "agent.yaml"), [&](config_map& root) {
        auto collector = root.get_map("collector");
        CHECK(collector.get_string("url") == "https://cmdb.example.org:8443");
        CHECK(collector.get_string("ca_file") == (dir / "ca.pem").string());
        CHECK(collector.get_string("enrollment_token") == result.enrollment_token);
        CHECK(root.get_string("state_dir") == (dir / "agent-state").string());
    });
    read_config(load_yaml_file(dir / "ctl.yaml"), [&](config_map& root) {
        CHECK(root.get_string("url") == "https://cmdb.example.org:8443");
        CHECK(root.get_string("token") == result.admin_token);
        CHECK(root.get_string("ca_file") == (dir / "ca.pem").string());
    });
    CHECK(describe(result).find("muster-collector serve --config " +
                                (dir / "collector.yaml").string()) != std::string::npos);
}

TEST_CASE("init refuses to overwrite an installation", "[collector][init]") {
    test::temp_dir tmp;
    initialize_installation(tmp.path(), {"127.0.0.1", 8443});
    auto before = read_file(fs::path(tmp.path()) / "ca.pem");
    CHECK_THROWS_AS(initialize_installation(tmp.path(), {"127.0.0.1", 8443}), init_error);
    CHECK(read_file(fs::path(tmp.path()) / "ca.pem").value() == before.value());
}
