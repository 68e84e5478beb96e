#include "support/https_client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace muster::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct parsed_url {
    std::string host;  // without brackets
    std::string port;
    std::string target;
};

parsed_url parse_url(const std::string& url) {
    const std::string scheme = "https://";
    if (url.rfind(scheme, 0) != 0) throw std::invalid_argument("not an https URL: " + url);
    std::string rest = url.substr(scheme.size());
    auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    parsed_url out;
    out.target = slash == std::string::npos ? "/" : rest.substr(slash);
    auto colon = authority.rfind(':');
    if (colon == std::string::npos || authority.back() == ']') {
        out.host = authority;
        out.port = "443";
    } else {
        out.host = authority.substr(0, colon);
        out.port = authority.substr(colon + 1);
    }
    if (out.host.size() > 2 && out.host.front() == '[')
        out.host = out.host.substr(1, out.host.size() - 2);
    return out;
}

bool is_ip_address(const std::string& host) {
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

asio::awaitable<https_response> exchange(asio::ssl::context& tls, parsed_url url,
                                         http::request<http::string_body> request,
                                         std::chrono::seconds timeout) {
    auto executor = co_await asio::this_coro::executor;
    asio::ip::tcp::resolver resolver(executor);
    beast::ssl_stream<beast::tcp_stream> stream(executor, tls);
    // SNI only for names; the certificate's name is checked in every case.
    if (!is_ip_address(url.host))
        SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str());
    stream.set_verify_callback(asio::ssl::host_name_verification(url.host));

    auto& tcp = beast::get_lowest_layer(stream);
    tcp.expires_after(timeout);
    co_await tcp.async_connect(
        co_await resolver.async_resolve(url.host, url.port, asio::use_awaitable),
        asio::use_awaitable);
    co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    co_await http::async_write(stream, request, asio::use_awaitable);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    co_await http::async_read(stream, buffer, parser, asio::use_awaitable);

    https_response out;
    auto& response = parser.get();
    out.status = static_cast<int>(response.result_int());
    out.body = response.body();
    for (const auto& field : response) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        out.headers[name] = std::string(field.value());
    }
    beast::error_code ignored;
    tcp.expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ignored));
    co_return out;
}

}  // namespace

https_response https_request(const std::string& method, const std::string& url,
                             const header_list& headers, const std::string& body,
                             const std::string& ca_file, std::chrono::seconds timeout) {
    auto target = parse_url(url);
    asio::ssl::context tls(asio::ssl::context::tls_client);
    tls.set_verify_mode(asio::ssl::verify_peer);
    tls.load_verify_file(ca_file);

    http::request<http::string_body> request{http::string_to_verb(method), target.target, 11};
    bool v6 = target.host.find(':') != std::string::npos;
    request.set(http::field::host,
                (v6 ? "[" + target.host + "]" : target.host) + ":" + target.port);
    request.set(http::field::user_agent, "muster-test");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = body;
    request.prepare_payload();

    asio::io_context io;
    auto result =
        asio::co_spawn(io, exchange(tls, target, std::move(request), timeout), asio::use_future);
    io.run();
    return result.get();
}

}  // namespace muster::test
