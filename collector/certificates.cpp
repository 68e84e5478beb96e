#include "collector/certificates.h"

#include "common/crypto.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <array>

namespace muster::collector {
namespace {

using x509_extension_ptr = std::unique_ptr<X509_EXTENSION, openssl_deleter<&X509_EXTENSION_free>>;

constexpr long seconds_per_day = 24 * 60 * 60;

[[noreturn]] void fail(const std::string& what) {
    std::array<char, 256> text{};
    ERR_error_string_n(ERR_get_error(), text.data(), text.size());
    ERR_clear_error();
    throw crypto_error(what + ": " + text.data());
}

void check(int ok, const char* what) {
    if (ok != 1) fail(what);
}

evp_pkey_ptr generate_p256_key() {
    evp_pkey_ptr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!key) fail("generating an EC P-256 key");
    return key;
}

// 127 random bits: positive, unique with overwhelming probability, within RFC 5280's 20 bytes.
void set_random_serial(X509* certificate) {
    std::array<unsigned char, 16> bytes{};
    check(RAND_bytes(bytes.data(), static_cast<int>(bytes.size())), "random serial");
    bytes[0] &= 0x7f;
    bignum_ptr serial(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
    if (!serial) fail("serial number");
    if (!BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate))) fail("serial");
}

x509_ptr new_certificate(EVP_PKEY* key, const std::string& common_name, long valid_days) {
    x509_ptr certificate(X509_new());
    if (!certificate) fail("X509_new");
    check(X509_set_version(certificate.get(), X509_VERSION_3), "certificate version");
    set_random_serial(certificate.get());
    // An hour of slack for clocks that are a little behind.
    if (!X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(certificate.get()), valid_days * seconds_per_day)) {
        fail("certificate validity");
    }
    X509_NAME* name = X509_get_subject_name(certificate.get());
    const auto* cn = reinterpret_cast<const unsigned char*>(common_name.c_str());
    check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("muster"), -1, -1, 0),
          "subject O");
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0), "subject CN");
    check(X509_set_pubkey(certificate.get(), key), "certificate public key");
    return certificate;
}

void add_extension(X509* certificate, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
    x509_extension_ptr extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
    if (!extension) fail("certificate extension " + std::string(OBJ_nid2sn(nid)));
    check(X509_add_ext(certificate, extension.get(), -1), "adding a certificate extension");
}

void sign(X509* certificate, EVP_PKEY* issuer_key) {
    if (X509_sign(certificate, issuer_key, EVP_sha256()) <= 0) fail("signing the certificate");
}

std::string subject_alt_names(const std::vector<std::string>& dns_names,
                              const std::vector<std::string>& ip_addresses) {
    std::string value;
    auto append = [&](const char* kind, const std::string& name) {
        if (!value.empty()) value += ",";
        value += kind;
        value += name;
    };
    for (const auto& name : dns_names) append("DNS:", name);
    for (const auto& address : ip_addresses) append("IP:", address);
    return value;
}

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

key_and_certificate make_certificate_authority(const std::string& common_name) {
    key_and_certificate ca{generate_p256_key(), nullptr};
    ca.certificate = new_certificate(ca.key.get(), common_name, 3650);
    X509* cert = ca.certificate.get();
    check(X509_set_issuer_name(cert, X509_get_subject_name(cert)), "issuer name");
    add_extension(cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    add_extension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_extension(cert, cert, NID_subject_key_identifier, "hash");
    sign(cert, ca.key.get());
    return ca;
}

key_and_certificate make_server_certificate(const key_and_certificate& ca,
                                            const std::string& common_name,
                                            const std::vector<std::string>& dns_names,
                                            const std::vector<std::string>& ip_addresses) {
    key_and_certificate server{generate_p256_key(), nullptr};
    server.certificate = new_certificate(server.key.get(), common_name, 1825);
    X509* cert = server.certificate.get();
    X509* issuer = ca.certificate.get();
    check(X509_set_issuer_name(cert, X509_get_subject_name(issuer)), "issuer name");
    add_extension(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert, issuer, NID_key_usage, "critical,digitalSignature");
    add_extension(cert, issuer, NID_ext_key_usage, "serverAuth");
    add_extension(cert, issuer, NID_subject_key_identifier, "hash");
    add_extension(cert, issuer, NID_authority_key_identifier, "keyid:always");
    add_extension(cert, issuer, NID_subject_alt_name, subject_alt_names(dns_names, ip_addresses));
    sign(cert, ca.key.get());
    return server;
}

std::string private_key_pem(EVP_PKEY* key) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio || !PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) {
        fail("writing a private key");
    }
    return bio_text(bio.get());
}

std::string certificate_pem(X509* certificate) {
    bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio || !PEM_write_bio_X509(bio.get(), certificate)) fail("writing a certificate");
    return bio_text(bio.get());
}

}  // namespace muster::collector
