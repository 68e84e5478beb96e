#include "collector/tls.h"

#include <openssl/ssl.h>

#include <functional>
#include <stdexcept>

namespace muster::collector {
namespace {

constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* key_exchange_groups = "X25519:P-256:P-384";

void load_or_throw(const std::filesystem::path& file, const char* what,
                   const std::function<void(boost::system::error_code&)>& load) {
    boost::system::error_code ec;
    load(ec);
    if (ec) {
        throw boost::system::system_error(
            ec, std::string("cannot load the TLS ") + what + " from " + file.string());
    }
}

}  // namespace

boost::asio::ssl::context make_server_tls_context(const std::filesystem::path& cert_file,
                                                  const std::filesystem::path& key_file) {
    namespace ssl = boost::asio::ssl;
    ssl::context context(ssl::context::tls_server);
    SSL_CTX* native = context.native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_options(
        native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    if (SSL_CTX_set_cipher_list(native, tls12_ciphers) != 1) {
        throw std::runtime_error("the TLS 1.2 cipher list was refused by OpenSSL");
    }
    // Key exchange on elliptic curves of at least 128-bit strength only (no finite-field
    // groups such as ffdhe2048, which TLS 1.3 would otherwise offer).
    if (SSL_CTX_set1_groups_list(native, key_exchange_groups) != 1) {
        throw std::runtime_error("the TLS key exchange groups were refused by OpenSSL");
    }
    load_or_throw(cert_file, "certificate", [&](boost::system::error_code& ec) {
        context.use_certificate_chain_file(cert_file.string(), ec);
    });
    load_or_throw(key_file, "private key", [&](boost::system::error_code& ec) {
        context.use_private_key_file(key_file.string(), ssl::context::pem, ec);
    });
    return context;
}

}  // namespace muster::collector
