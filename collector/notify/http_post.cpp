#include "collector/notify/http_post.h"

#include "common/version_info.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <charconv>

namespace muster::collector::notify {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// A webhook's answer is only logged (its first line), so little of it is read.
constexpr std::uint64_t response_body_limit = 64 * 1024;
constexpr std::size_t first_line_max = 200;

bool is_ip_address(const std::string& host) {
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

std::string first_line_of(const std::string& body) {
    std::string line = body.substr(0, body.find_first_of("\r\n"));
    if (line.size() > first_line_max) line.resize(first_line_max);
    return line;
}

std::optional<std::chrono::seconds> retry_after_of(const http::fields& fields) {
    auto it = fields.find(http::field::retry_after);
    if (it == fields.end()) return std::nullopt;
    auto text = it->value();
    long seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc{} || end != text.data() + text.size() || seconds < 0) return std::nullopt;
    return std::chrono::seconds(seconds);
}

http::request<http::string_body> make_request(const webhook& hook, const std::string& body) {
    http::request<http::string_body> request{http::verb::post, hook.target.target, 11};
    bool v6 = hook.target.host.find(':') != std::string::npos;
    std::string host = v6 ? "[" + hook.target.host + "]" : hook.target.host;
    bool default_port = hook.target.port == (hook.target.tls ? 443 : 80);
    if (!default_port) host += ":" + std::to_string(hook.target.port);
    request.set(http::field::host, host);
    request.set(http::field::user_agent, std::string("muster-collector/") + product_version);
    request.set(http::field::content_type, "application/json");
    request.keep_alive(false);
    request.body() = body;
    request.prepare_payload();
    return request;
}

template <typename Stream>
asio::awaitable<post_result> exchange(Stream& stream, http::request<http::string_body> request) {
    post_result out;
    beast::error_code ec;
    auto on_error = asio::redirect_error(asio::use_awaitable, ec);
    co_await http::async_write(stream, request, on_error);
    if (ec) {
        out.error = "sending the request: " + ec.message();
        co_return out;
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(response_body_limit);
    co_await http::async_read(stream, buffer, parser, on_error);
    // An answer whose header arrived counts even if its body was cut or too long.
    if (ec && !parser.is_header_done()) {
        out.error = "reading the response: " + ec.message();
        co_return out;
    }
    out.status = static_cast<int>(parser.get().result_int());
    out.first_line = first_line_of(parser.get().body());
    out.retry_after = retry_after_of(parser.get().base());
    co_return out;
}

asio::awaitable<post_result> post(const webhook& hook, asio::ssl::context* tls,
                                  http::request<http::string_body> request) {
    auto executor = co_await asio::this_coro::executor;
    beast::error_code ec;
    auto on_error = asio::redirect_error(asio::use_awaitable, ec);
    asio::ip::tcp::resolver resolver(executor);
    auto endpoints = co_await resolver.async_resolve(hook.target.host,
                                                     std::to_string(hook.target.port), on_error);
    if (ec) co_return post_result{0, "resolving " + hook.target.host + ": " + ec.message(), {}, {}};

    beast::tcp_stream tcp(executor);
    tcp.expires_after(hook.timeout);  // one deadline for the whole exchange
    co_await tcp.async_connect(endpoints, on_error);
    if (ec) co_return post_result{0, "connecting: " + ec.message(), {}, {}};
    if (!tls) {
        auto result = co_await exchange(tcp, std::move(request));
        tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
        co_return result;
    }
    beast::ssl_stream<beast::tcp_stream&> stream(tcp, *tls);
    // SNI only for names; the certificate's name is verified in every case.
    if (!is_ip_address(hook.target.host)) {
        SSL_set_tlsext_host_name(stream.native_handle(), hook.target.host.c_str());
    }
    stream.set_verify_callback(asio::ssl::host_name_verification(hook.target.host));
    co_await stream.async_handshake(asio::ssl::stream_base::client, on_error);
    if (ec) co_return post_result{0, "TLS handshake: " + ec.message(), {}, {}};
    auto result = co_await exchange(stream, std::move(request));
    // The answer is in; a peer that does not close TLS politely changes nothing.
    co_await stream.async_shutdown(on_error);
    co_return result;
}

}  // namespace

post_result http_post(const webhook& hook, const std::string& body) {
    std::optional<asio::ssl::context> tls;
    try {
        if (hook.target.tls) {
            tls.emplace(asio::ssl::context::tls_client);
            tls->set_verify_mode(asio::ssl::verify_peer);
            if (hook.ca_file.empty()) {
                tls->set_default_verify_paths();
            } else {
                tls->load_verify_file(hook.ca_file.string());
            }
        }
        asio::io_context io;
        auto result = asio::co_spawn(
            io, post(hook, tls ? &*tls : nullptr, make_request(hook, body)), asio::use_future);
        io.run();
        return result.get();
    } catch (const std::exception& error) {
        // Only setup can throw here (an unreadable ca_file): the same as a network failure.
        return post_result{0, error.what(), {}, {}};
    }
}

}  // namespace muster::collector::notify
