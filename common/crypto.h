#pragma once
// Cryptographic primitives for agent identity and integrity: Ed25519 keys and signatures,
// SHA-256, Base64, hex, constant-time comparison and random tokens. All on OpenSSL 3.
//
// Error policy: unexpected failures (OpenSSL errors, unreadable or malformed key files,
// using a public-only key to sign) throw crypto_error carrying OpenSSL's error text. An
// invalid signature is not an error: ed25519_verify returns false. base64_decode returns
// nullopt for input that is not canonical Base64.
#include "common/openssl_handles.h"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace muster {

class crypto_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// An Ed25519 key pair, or only its public half. Move-only; owns one EVP_PKEY.
class ed25519_key {
  public:
    static constexpr std::size_t public_size = 32;
    static constexpr std::size_t signature_size = 64;

    static ed25519_key generate();
    // PKCS#8 "PRIVATE KEY" PEM, as written by save_private_pem or `openssl genpkey`.
    static ed25519_key load_private_pem(const std::filesystem::path& path);
    // SubjectPublicKeyInfo "PUBLIC KEY" PEM text.
    static ed25519_key load_public_pem(std::string_view pem);
    // The raw 32-byte public key (RFC 8032 encoding).
    static ed25519_key from_public_raw(std::string_view raw);

    // Writes the private key atomically to a file created with mode 0600.
    void save_private_pem(const std::filesystem::path& path) const;
    std::string public_pem() const;
    std::string public_raw() const;
    bool has_private() const { return has_private_; }

    // The 64-byte signature of data. Throws crypto_error for a public-only key.
    std::string sign(std::string_view data) const;

    EVP_PKEY* handle() const { return key_.get(); }

  private:
    ed25519_key(evp_pkey_ptr key, bool has_private);
    evp_pkey_ptr key_;
    bool has_private_;
};

// True only when signature is a valid Ed25519 signature of data by key.
bool ed25519_verify(const ed25519_key& key, std::string_view data, std::string_view signature);

// SHA-256 digest: 32 raw bytes, or 64 lowercase hex digits.
std::string sha256(std::string_view data);
std::string sha256_hex(std::string_view data);

// RFC 4648 Base64, standard alphabet, with '=' padding, no line breaks. Decoding is strict:
// no whitespace, correct padding, and zero unused bits.
std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view text);

// Lowercase hexadecimal.
std::string hex_encode(std::string_view data);

// Compares secrets in time independent of their content (not of their length).
bool constant_time_equal(std::string_view a, std::string_view b);

// `bytes` random bytes from the OpenSSL CSPRNG as unpadded base64url text (RFC 4648 §5).
std::string random_token(std::size_t bytes = 32);

}  // namespace muster
