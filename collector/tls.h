#pragma once
// The collector's TLS server context: TLS 1.2 at least, 1.3 preferred; for 1.2 only AEAD
// ciphers with ECDHE key exchange (forward secrecy, no CBC, no RSA key transport), in the
// server's order of preference.
//
// Error policy: throws boost::system::system_error when the certificate or key cannot be
// loaded, with the file named in the message.
#include <boost/asio/ssl/context.hpp>

#include <filesystem>

namespace muster::collector {

boost::asio::ssl::context make_server_tls_context(const std::filesystem::path& cert_file,
                                                  const std::filesystem::path& key_file);

}  // namespace muster::collector
