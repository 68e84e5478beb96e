#include "common/crypto.h"

#include "common/file.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>

namespace muster {

namespace {

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// Throws with the oldest queued OpenSSL error, and empties the queue so that a stale error
// cannot be blamed on a later, unrelated call.
[[noreturn]] void throw_openssl_error(const std::string& what) {
    std::string message = what;
    if (unsigned long code = ERR_get_error(); code != 0) {
        std::array<char, 256> text{};
        ERR_error_string_n(code, text.data(), text.size());
        message += ": ";
        message += text.data();
    }
    ERR_clear_error();
    throw crypto_error(message);
}

// Secrets leave no copy behind in freed memory.
class wiped_string {
  public:
    explicit wiped_string(std::string s) : s_(std::move(s)) {}
    wiped_string(const wiped_string&) = delete;
    wiped_string& operator=(const wiped_string&) = delete;
    ~wiped_string() { OPENSSL_cleanse(s_.data(), s_.size()); }
    const std::string& get() const { return s_; }

  private:
    std::string s_;
};

bio_ptr memory_bio(std::string_view content) {
    if (content.size() > INT_MAX) throw crypto_error("PEM input too large");
    bio_ptr bio(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
    if (!bio) throw_openssl_error("BIO_new_mem_buf");
    return bio;
}

std::string bio_contents(BIO* bio) {
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(size));
}

// Refuses to ask for a pass phrase: OpenSSL's default would prompt on the terminal.
int no_passphrase(char*, int, int, void*) {
    return 0;
}

void require_ed25519(const EVP_PKEY* key, const std::string& origin) {
    if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519)
        throw crypto_error(origin + ": not an Ed25519 key");
}

constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
    auto pos = base64_alphabet.find(c);
    return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

}  // namespace

// ----------------------------------------------------------------------------------------
// Ed25519

ed25519_key::ed25519_key(evp_pkey_ptr key, bool has_private)
    : key_(std::move(key)), has_private_(has_private) {}

ed25519_key ed25519_key::generate() {
    evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) throw_openssl_error("Ed25519 keygen init");
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_keygen(ctx.get(), &raw) != 1) throw_openssl_error("Ed25519 keygen");
    return ed25519_key(evp_pkey_ptr(raw), true);
}

ed25519_key ed25519_key::load_private_pem(const std::filesystem::path& path) {
    auto content = read_file(path, 1 << 20);
    if (!content)
        throw crypto_error("cannot read " + path.string() + ": " + content.error().message());
    wiped_string pem(std::move(*content));
    auto bio = memory_bio(pem.get());
    evp_pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
    if (!key) throw_openssl_error("cannot load private key " + path.string());
    require_ed25519(key.get(), path.string());
    return ed25519_key(std::move(key), true);
}

ed25519_key ed25519_key::load_public_pem(std::string_view pem) {
    auto bio = memory_bio(pem);
    evp_pkey_ptr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr));
    if (!key) throw_openssl_error("cannot load public key PEM");
    require_ed25519(key.get(), "public key PEM");
    return ed25519_key(std::move(key), false);
}

ed25519_key ed25519_key::from_public_raw(std::string_view raw) {
    if (raw.size() != public_size) throw crypto_error("Ed25519 public key must be 32 bytes");
    evp_pkey_ptr key(
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(raw), raw.size()));
    if (!key) throw_openssl_error("cannot load raw Ed25519 public key");
    return ed25519_key(std::move(key), false);
}

void ed25519_key::save_private_pem(const std::filesystem::path& path) const {
    if (!has_private_) throw crypto_error("cannot save a public-only key as private");
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw_openssl_error("cannot encode private key");
    wiped_string pem(bio_contents(bio.get()));
    if (auto written = write_file_atomic(path, pem.get(), 0600); !written)
        throw crypto_error("cannot write " + path.string() + ": " + written.error().message());
}

std::string ed25519_key::public_pem() const {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1)
        throw_openssl_error("cannot encode public key");
    return bio_contents(bio.get());
}

std::string ed25519_key::public_raw() const {
    std::string raw(public_size, '\0');
    std::size_t size = raw.size();
    if (EVP_PKEY_get_raw_public_key(key_.get(), reinterpret_cast<unsigned char*>(raw.data()),
                                    &size) != 1 ||
        size != public_size)
        throw_openssl_error("cannot extract raw public key");
    return raw;
}

std::string ed25519_key::sign(std::string_view data) const {
    if (!has_private_) throw crypto_error("cannot sign with a public-only key");
    evp_md_ctx_ptr ctx(EVP_MD_CTX_new());
    // Ed25519 hashes internally: no digest is named, and the data is signed in one call.
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1)
        throw_openssl_error("Ed25519 sign init");
    std::string signature(signature_size, '\0');
    std::size_t size = signature.size();
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                       bytes(data), data.size()) != 1 ||
        size != signature_size)
        throw_openssl_error("Ed25519 sign");
    return signature;
}

bool ed25519_verify(const ed25519_key& key, std::string_view data, std::string_view signature) {
    if (signature.size() != ed25519_key::signature_size) return false;
    evp_md_ctx_ptr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.handle()) != 1)
        throw_openssl_error("Ed25519 verify init");
    bool valid = EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(data),
                                  data.size()) == 1;
    ERR_clear_error();  // a bad signature queues an error that is not ours to report
    return valid;
}

// ----------------------------------------------------------------------------------------
// Digests and encodings

std::string sha256(std::string_view data) {
    std::string digest(32, '\0');
    unsigned int size = 0;
    if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(digest.data()), &size,
                   EVP_sha256(), nullptr) != 1 ||
        size != digest.size())
        throw_openssl_error("SHA-256");
    return digest;
}

std::string sha256_hex(std::string_view data) {
    return hex_encode(sha256(data));
}

std::string hex_encode(std::string_view data) {
    constexpr std::string_view digits = "0123456789abcdef";
    std::string hex;
    hex.reserve(data.size() * 2);
    for (unsigned char c : data) {
        hex += digits[c >> 4];
        hex += digits[c & 0xf];
    }
    return hex;
}

std::string base64_encode(std::string_view data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < data.size(); i += 3) {
        std::size_t n = std::min<std::size_t>(3, data.size() - i);
        std::uint32_t group = 0;
        for (std::size_t k = 0; k < 3; ++k)
            group = group << 8 | (k < n ? static_cast<unsigned char>(data[i + k]) : 0u);
        for (std::size_t k = 0; k < 4; ++k)
            out += k <= n ? base64_alphabet[(group >> (18 - 6 * k)) & 0x3f] : '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::size_t padding = 0;
    while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=')
        ++padding;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    std::size_t digits = text.size() - padding;
    std::uint32_t group = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        int value = base64_value(text[i]);
        if (value < 0) return std::nullopt;
        group = group << 6 | static_cast<std::uint32_t>(value);
        if (i % 4 == 3) {
            for (int shift : {16, 8, 0}) out += static_cast<char>((group >> shift) & 0xff);
            group = 0;
        }
    }
    // The last, padded quantum: 2 digits carry 1 byte, 3 digits carry 2 bytes.
    switch (digits % 4) {
        case 0:
            break;
        case 2:
            if (group & 0xf) return std::nullopt;
            out += static_cast<char>(group >> 4);
            break;
        case 3:
            if (group & 0x3) return std::nullopt;
            out += static_cast<char>((group >> 10) & 0xff);
            out += static_cast<char>((group >> 2) & 0xff);
            break;
        default:
            return std::nullopt;
    }
    return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_token(std::size_t bytes_count) {
    if (bytes_count > INT_MAX) throw crypto_error("random_token: size too large");
    std::string raw(bytes_count, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) != 1)
        throw_openssl_error("RAND_bytes");
    std::string token = base64_encode(raw);
    OPENSSL_cleanse(raw.data(), raw.size());
    while (!token.empty() && token.back() == '=') token.pop_back();
    for (char& c : token) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    return token;
}

}  // namespace muster
