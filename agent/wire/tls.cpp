#include "agent/wire/tls.h"

#include "common/crypto.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace muster::agent::wire {
namespace {

std::string openssl_error_text() {
    unsigned long code = ERR_get_error();
    if (code == 0) return "unknown error";
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    ERR_clear_error();
    return buffer;
}

bool certificate_matches_host(X509* certificate, const std::string& host, bool host_is_ip) {
    if (host_is_ip) return X509_check_ip_asc(certificate, host.c_str(), 0) == 1;
    return X509_check_host(certificate, host.data(), host.size(), 0, nullptr) == 1;
}

}  // namespace

std::string certificate_fingerprint(X509* certificate) {
    int length = i2d_X509(certificate, nullptr);
    if (length <= 0) return "";
    std::string der(static_cast<std::size_t>(length), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    i2d_X509(certificate, &out);
    return sha256_hex(der);
}

tls_trust::tls_trust(trust_config trust)
    : trust_(std::move(trust)), context_(boost::asio::ssl::context::tls_client) {
    SSL_CTX* ctx = context_.native_handle();
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
        throw tls_setup_error("cannot require TLS 1.2: " + openssl_error_text());
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (!trust_.ca_file.empty()) {
        if (SSL_CTX_load_verify_locations(ctx, trust_.ca_file.c_str(), nullptr) != 1)
            throw tls_setup_error("cannot load ca_file " + trust_.ca_file.string() + ": " +
                                  openssl_error_text());
    } else if (trust_.pinned_sha256.size() == 64) {
        SSL_CTX_set_cert_verify_callback(ctx, &tls_trust::verify_pinned, this);
    } else {
        throw tls_setup_error("no trust anchor: set collector.ca_file or collector.ca_fingerprint");
    }
}

void tls_trust::prepare(SSL* ssl, const std::string& host, bool host_is_ip) {
    host_ = host;
    host_is_ip_ = host_is_ip;
    pin_problem_.clear();
    if (!host_is_ip) SSL_set_tlsext_host_name(ssl, host.c_str());
    if (!trust_.ca_file.empty()) {
        // Chain verification by OpenSSL also checks the name in the same pass.
        if (host_is_ip)
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
        else
            SSL_set1_host(ssl, host.c_str());
    }
}

// Replaces chain verification when a fingerprint is pinned: the leaf certificate must be
// exactly the pinned one and name the host; its issuer does not matter.
int tls_trust::verify_pinned(X509_STORE_CTX* store, void* arg) {
    auto* self = static_cast<tls_trust*>(arg);
    X509* leaf = X509_STORE_CTX_get0_cert(store);
    if (!leaf) {
        self->pin_problem_ = "the collector sent no certificate";
        X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
        return 0;
    }
    auto fingerprint = certificate_fingerprint(leaf);
    if (!constant_time_equal(fingerprint, self->trust_.pinned_sha256)) {
        self->pin_problem_ =
            "certificate fingerprint " + fingerprint + " does not match the pinned fingerprint";
        X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    if (!certificate_matches_host(leaf, self->host_, self->host_is_ip_)) {
        self->pin_problem_ = "certificate is not valid for host " + self->host_;
        X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
        return 0;
    }
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
}

std::string tls_trust::trust_anchor() const {
    if (!trust_.ca_file.empty()) return "ca_file=" + trust_.ca_file.string();
    return "ca_fingerprint=" + trust_.pinned_sha256;
}

std::string tls_trust::verify_failure(const SSL* ssl) const {
    long result = SSL_get_verify_result(ssl);
    if (result == X509_V_OK) return "";
    std::string reason =
        !pin_problem_.empty() ? pin_problem_ : X509_verify_cert_error_string(result);
    return "collector certificate not trusted: " + reason + " (" + trust_anchor() + ")";
}

}  // namespace muster::agent::wire
