#include "agent/checks/net.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace muster::agent::checks::net {
namespace {

constexpr auto checked = asio::as_tuple(asio::use_awaitable);

std::string reason(const boost::system::error_code& ec) {
    if (ec == boost::beast::error::timeout || ec == asio::error::operation_aborted)
        return "timed out";
    return ec.message();
}

}  // namespace

bool is_ip_address(const std::string& host) {
    unsigned char buffer[16];
    return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

std::string authority(const std::string& host, std::uint16_t port) {
    auto h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return h + ":" + std::to_string(port);
}

asio::awaitable<std::string> connect(boost::beast::tcp_stream& stream, tcp::resolver& resolver,
                                     std::string host, std::uint16_t port,
                                     std::chrono::steady_clock::time_point deadline) {
    auto [resolve_ec, endpoints] =
        co_await resolver.async_resolve(host, std::to_string(port), checked);
    if (resolve_ec) co_return "cannot resolve " + host + ": " + reason(resolve_ec);
    stream.expires_at(deadline);
    auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, checked);
    if (connect_ec)
        co_return "cannot connect to " + authority(host, port) + ": " + reason(connect_ec);
    co_return "";
}

asio::ssl::context tls_context(bool verify, const std::filesystem::path& ca_file) {
    asio::ssl::context context(asio::ssl::context::tls_client);
    if (!verify) {
        context.set_verify_mode(asio::ssl::verify_none);
        return context;
    }
    SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
    context.set_verify_mode(asio::ssl::verify_peer);
    if (ca_file.empty())
        context.set_default_verify_paths();
    else
        context.load_verify_file(ca_file.string());
    return context;
}

void prepare_tls(SSL* ssl, const std::string& host, bool verify) {
    bool ip = is_ip_address(host);
    if (!ip) SSL_set_tlsext_host_name(ssl, host.c_str());
    if (!verify) return;
    if (ip)
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    else
        SSL_set1_host(ssl, host.c_str());
}

std::string verify_failure(const SSL* ssl) {
    long result = SSL_get_verify_result(ssl);
    if (result == X509_V_OK) return "";
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(result);
}

}  // namespace muster::agent::checks::net
