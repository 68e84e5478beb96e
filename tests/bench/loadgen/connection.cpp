#include "tests/bench/loadgen/connection.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <charconv>
#include <regex>

namespace muster::loadgen {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ssl_stream = beast::ssl_stream<beast::tcp_stream>;
constexpr auto checked = asio::as_tuple(asio::use_awaitable);

// The collector closed a kept-alive connection between two requests.
bool stale_connection(const boost::system::error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::error::eof ||
           ec == asio::ssl::error::stream_truncated;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view text) {
    unsigned seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return std::chrono::seconds(seconds);
}

}  // namespace

std::optional<collector_url> parse_url(const std::string& url) {
    static const std::regex pattern(R"(https://(\[[0-9a-fA-F:.]+\]|[^:/\[\]]+)(?::(\d+))?(/.*)?)");
    std::smatch m;
    if (!std::regex_match(url, m, pattern)) return std::nullopt;
    collector_url out;
    out.host = m[1].str();
    if (out.host.front() == '[') out.host = out.host.substr(1, out.host.size() - 2);
    out.port = m[2].matched ? m[2].str() : "443";
    out.base_path = m[3].matched ? m[3].str() : "";
    while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
    return out;
}

asio::ssl::context make_tls_context(const std::string& ca_file) {
    asio::ssl::context tls(asio::ssl::context::tls_client);
    tls.set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                    asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    tls.load_verify_file(ca_file);
    tls.set_verify_mode(asio::ssl::verify_peer);
    return tls;
}

struct connection::impl {
    asio::any_io_executor executor;
    asio::ssl::context& tls;
    collector_url url;
    std::chrono::seconds timeout;
    std::unique_ptr<ssl_stream> stream;
    beast::flat_buffer buffer;

    asio::awaitable<boost::system::error_code> connect() {
        stream = std::make_unique<ssl_stream>(executor, tls);
        buffer.clear();
        stream->set_verify_callback(asio::ssl::host_name_verification(url.host));
        boost::system::error_code ip_ec;
        asio::ip::make_address(url.host, ip_ec);
        if (ip_ec) SSL_set_tlsext_host_name(stream->native_handle(), url.host.c_str());
        tcp::resolver resolver(executor);
        auto [resolve_ec, endpoints] = co_await resolver.async_resolve(url.host, url.port, checked);
        if (resolve_ec) co_return resolve_ec;
        auto& layer = beast::get_lowest_layer(*stream);
        layer.expires_after(timeout);
        auto [connect_ec, endpoint] = co_await layer.async_connect(endpoints, checked);
        if (connect_ec) co_return connect_ec;
        layer.expires_after(timeout);
        auto [tls_ec] = co_await stream->async_handshake(asio::ssl::stream_base::client, checked);
        co_return tls_ec;
    }

    asio::awaitable<http_result> exchange(const http::request<http::string_body>& req,
                                          bool* stale) {
        http_result out;
        auto& layer = beast::get_lowest_layer(*stream);
        layer.expires_after(timeout);
        auto [write_ec, written] = co_await http::async_write(*stream, req, checked);
        out.bytes_sent = written;
        if (write_ec) {
            *stale = stale_connection(write_ec);
            out.ec = write_ec;
            co_return out;
        }
        http::response_parser<http::string_body> parser;
        parser.body_limit(1 << 20);
        layer.expires_after(timeout);
        auto [read_ec, read] = co_await http::async_read(*stream, buffer, parser, checked);
        if (read_ec) {
            *stale = read == 0 && stale_connection(read_ec);
            out.ec = read_ec;
            co_return out;
        }
        auto& res = parser.get();
        out.status = res.result_int();
        out.body = std::move(res.body());
        if (auto it = res.find(http::field::retry_after); it != res.end())
            out.retry_after = parse_retry_after(it->value());
        if (!res.keep_alive()) stream.reset();
        co_return out;
    }
};

connection::connection(asio::any_io_executor executor, asio::ssl::context& tls, collector_url url,
                       std::chrono::seconds timeout)
    : impl_(std::make_unique<impl>(
          impl{std::move(executor), tls, std::move(url), timeout, nullptr, {}})) {}

connection::~connection() = default;

asio::awaitable<http_result> connection::post(
    const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers,
    const std::string& body) {
    http::request<http::string_body> req{http::verb::post, impl_->url.base_path + target, 11};
    req.set(http::field::host, impl_->url.host + ":" + impl_->url.port);
    req.set(http::field::user_agent, "muster-loadgen");
    req.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = body;
    req.keep_alive(true);
    req.prepare_payload();
    for (int attempt = 0;; ++attempt) {
        bool reused = impl_->stream != nullptr;
        if (!reused) {
            if (auto ec = co_await impl_->connect()) {
                impl_->stream.reset();
                http_result failed;
                failed.ec = ec;
                failed.connect_failed = true;
                co_return failed;
            }
        }
        bool stale = false;
        auto result = co_await impl_->exchange(req, &stale);
        if (!result.ec) co_return result;
        impl_->stream.reset();
        if (!(reused && stale && attempt == 0)) co_return result;
    }
}

}  // namespace muster::loadgen
