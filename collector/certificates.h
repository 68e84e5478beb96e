#pragma once
// A private certificate authority for one collector installation: an EC P-256 CA and a
// server certificate signed by it. OpenSSL 3 APIs; every handle RAII-owned.
//
// Error policy: any OpenSSL failure throws crypto_error (common/crypto.h) with OpenSSL's
// error text.
#include "common/openssl_handles.h"

#include <string>
#include <vector>

namespace muster::collector {

struct key_and_certificate {
    evp_pkey_ptr key;
    x509_ptr certificate;
};

// A self-signed CA valid for ten years.
key_and_certificate make_certificate_authority(const std::string& common_name);

// A TLS server certificate signed by ca, valid for five years, for each name in dns_names
// and each address in ip_addresses (subjectAltName).
key_and_certificate make_server_certificate(const key_and_certificate& ca,
                                            const std::string& common_name,
                                            const std::vector<std::string>& dns_names,
                                            const std::vector<std::string>& ip_addresses);

std::string private_key_pem(EVP_PKEY* key);
std::string certificate_pem(X509* certificate);

}  // namespace muster::collector
