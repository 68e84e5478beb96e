#include "collector/ctl/client.h"

#include "collector/ctl/errors.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace muster::ctl {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

struct endpoint {
    std::string host;  // without brackets
    std::string port;
    std::string base;  // a path prefix, "" or "/something"
};

endpoint parse_url(const std::string& url) {
    std::string rest = url.substr(std::string_view("https://").size());
    auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    endpoint out;
    out.base = slash == std::string::npos ? "" : rest.substr(slash);
    auto close = authority.find(']');
    auto colon = authority.rfind(':');
    if (colon == std::string::npos || (close != std::string::npos && colon < close)) {
        out.host = authority;
        out.port = "443";
    } else {
        out.host = authority.substr(0, colon);
        out.port = authority.substr(colon + 1);
    }
    if (out.host.size() > 2 && out.host.front() == '[')
        out.host = out.host.substr(1, out.host.size() - 2);
    if (out.host.empty() || out.port.empty()) usage_error("url: cannot read a host in " + url);
    return out;
}

bool is_ip_address(const std::string& host) {
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

struct reply {
    int status = 0;
    std::string body;
};

asio::awaitable<reply> exchange(asio::ssl::context& tls, const endpoint& where,
                                http::request<http::string_body> request,
                                std::chrono::seconds timeout) {
    auto executor = co_await asio::this_coro::executor;
    asio::ip::tcp::resolver resolver(executor);
    beast::ssl_stream<beast::tcp_stream> stream(executor, tls);
    if (!is_ip_address(where.host))  // SNI is for names only
        SSL_set_tlsext_host_name(stream.native_handle(), where.host.c_str());
    stream.set_verify_callback(asio::ssl::host_name_verification(where.host));

    auto& tcp = beast::get_lowest_layer(stream);
    tcp.expires_after(timeout);
    co_await tcp.async_connect(
        co_await resolver.async_resolve(where.host, where.port, asio::use_awaitable),
        asio::use_awaitable);
    co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    co_await http::async_write(stream, request, asio::use_awaitable);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 30);  // SQL answers may be large; the server caps them
    co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
    reply out{static_cast<int>(parser.get().result_int()), std::move(parser.get().body())};
    // The answer is complete; a peer that closes without close_notify changes nothing.
    beast::error_code ignored;
    tcp.expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ignored));
    co_return out;
}

int exit_code_for(int status) {
    switch (status) {
        case 401:
            return exit_unauthorized;
        case 403:
            return exit_forbidden;
        case 404:
            return exit_not_found;
        default:
            return exit_error;
    }
}

[[noreturn]] void throw_http_error(int status, const std::string& body) {
    std::string message = "HTTP " + std::to_string(status);
    boost::system::error_code ec;
    auto parsed = json::parse(body, ec);
    if (!ec && parsed.is_object()) {
        const auto* error = parsed.as_object().if_contains("error");
        if (error && error->is_object()) {
            const auto* text = error->as_object().if_contains("message");
            const auto* code = error->as_object().if_contains("code");
            if (code && code->is_string()) message += " " + std::string(code->as_string());
            if (text && text->is_string()) message += ": " + std::string(text->as_string());
        }
    }
    throw ctl_error(exit_code_for(status), message);
}

}  // namespace

std::string url_encode(std::string_view text) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += digits[c >> 4];
            out += digits[c & 0x0f];
        }
    }
    return out;
}

api_client::api_client(connection_settings settings, std::chrono::seconds timeout)
    : settings_(std::move(settings)), timeout_(timeout) {}

json::value api_client::get(const std::string& path,
                            const std::map<std::string, std::string>& query) {
    std::string target = path;
    char separator = '?';
    for (const auto& [name, value] : query) {
        target += separator + url_encode(name) + "=" + url_encode(value);
        separator = '&';
    }
    return send("GET", target, "");
}

json::value api_client::post(const std::string& path, const json::object& body) {
    return send("POST", path, json::serialize(body));
}

json::value api_client::send(const std::string& method, const std::string& target,
                             const std::string& body) {
    endpoint where = parse_url(settings_.url);
    asio::ssl::context tls(asio::ssl::context::tls_client);
    tls.set_verify_mode(asio::ssl::verify_peer);
    try {
        if (settings_.ca_file.empty())
            tls.set_default_verify_paths();
        else
            tls.load_verify_file(settings_.ca_file);
    } catch (const boost::system::system_error& e) {
        usage_error("ca_file " + settings_.ca_file + ": " + e.what());
    }

    http::request<http::string_body> request{http::string_to_verb(method), where.base + target, 11};
    bool v6 = where.host.find(':') != std::string::npos;
    request.set(http::field::host, (v6 ? "[" + where.host + "]" : where.host) + ":" + where.port);
    request.set(http::field::user_agent, "musterctl");
    request.set(http::field::accept, "application/json");
    request.set(http::field::authorization, "Bearer " + settings_.token);
    if (method != "GET") {
        request.set(http::field::content_type, "application/json");
        request.body() = body;
    }
    request.prepare_payload();

    reply answer;
    try {
        asio::io_context io;
        auto done = asio::co_spawn(io, exchange(tls, where, std::move(request), timeout_),
                                   asio::use_future);
        io.run();
        answer = done.get();
    } catch (const boost::system::system_error& e) {
        std::string why =
            e.code() == beast::error::timeout ? "no answer in time" : e.code().message();
        throw ctl_error(exit_unreachable, "cannot reach " + settings_.url + ": " + why);
    }
    if (answer.status < 200 || answer.status > 299) throw_http_error(answer.status, answer.body);
    if (answer.body.empty()) return nullptr;
    boost::system::error_code ec;
    auto parsed = json::parse(answer.body, ec);
    if (ec) throw ctl_error(exit_error, "the collector's answer is not JSON: " + ec.message());
    return parsed;
}

}  // namespace muster::ctl
