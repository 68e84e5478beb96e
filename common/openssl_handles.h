#pragma once
// Owning smart pointers for OpenSSL objects. The deleters call OpenSSL's *_free functions,
// which accept nullptr and never throw, so these are safe in destructors and unwinding.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

namespace muster {

template <auto free_fn>
struct openssl_deleter {
    template <typename T>
    void operator()(T* p) const noexcept {
        free_fn(p);
    }
};

using evp_pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<&EVP_PKEY_free>>;
using evp_pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, openssl_deleter<&EVP_PKEY_CTX_free>>;
using evp_md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, openssl_deleter<&EVP_MD_CTX_free>>;
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, openssl_deleter<&SSL_CTX_free>>;
using ssl_ptr = std::unique_ptr<SSL, openssl_deleter<&SSL_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<&X509_free>>;
using x509_name_ptr = std::unique_ptr<X509_NAME, openssl_deleter<&X509_NAME_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<&BIO_free_all>>;
using bignum_ptr = std::unique_ptr<BIGNUM, openssl_deleter<&BN_free>>;

}  // namespace muster
