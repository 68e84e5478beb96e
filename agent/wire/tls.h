#pragma once
// TLS for the agent's client side: a client SSL context that trusts the collector either
// through a CA file (chain verification) or through a pinned SHA-256 fingerprint of the
// collector certificate's DER (the pin replaces chain verification), and always checks the
// host name (or IP address) of the URL against the certificate. TLS 1.2 at least.
#include <boost/asio/ssl/context.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace muster::agent::wire {

class tls_setup_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct trust_config {
    std::filesystem::path ca_file;  // PEM with one or more CA certificates
    std::string pinned_sha256;      // 64 lower-case hex digits; used when ca_file is empty
};

class tls_trust {
  public:
    // Throws tls_setup_error when the CA file cannot be loaded or nothing is trusted.
    explicit tls_trust(trust_config trust);
    tls_trust(const tls_trust&) = delete;
    tls_trust& operator=(const tls_trust&) = delete;

    boost::asio::ssl::context& context() { return context_; }

    // Prepares one connection to host: SNI for a name, and the host name or IP check.
    void prepare(SSL* ssl, const std::string& host, bool host_is_ip);

    // After a failed handshake: one line saying why the certificate was not trusted, or ""
    // when the handshake failed for another reason.
    std::string verify_failure(const SSL* ssl) const;

  private:
    static int verify_pinned(X509_STORE_CTX* store, void* self);
    std::string trust_anchor() const;

    trust_config trust_;
    boost::asio::ssl::context context_;
    std::string host_;
    bool host_is_ip_ = false;
    std::string pin_problem_;  // why the last pinned verification failed
};

// Lower-case hex SHA-256 of a certificate's DER encoding.
std::string certificate_fingerprint(X509* certificate);

}  // namespace muster::agent::wire
