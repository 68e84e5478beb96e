#include "agent/wire/https_client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <charconv>

namespace muster::agent::wire {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ssl_stream = beast::ssl_stream<beast::tcp_stream>;
constexpr auto checked = asio::as_tuple(asio::use_awaitable);

http_outcome failed(http_failure kind, std::string error) {
    http_outcome outcome;
    outcome.failure = kind;
    outcome.error = std::move(error);
    return outcome;
}

http_failure kind_of(const boost::system::error_code& ec) {
    if (ec == beast::error::timeout) return http_failure::timeout;
    if (ec == asio::error::operation_aborted) return http_failure::cancelled;
    return http_failure::network;
}

// Errors that mean a kept-alive connection was closed by the collector between requests:
// the request is sent again once on a new connection (both API calls are idempotent).
bool stale_connection(const boost::system::error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe || ec == asio::error::eof ||
           ec == asio::ssl::error::stream_truncated;
}

}  // namespace

std::optional<std::chrono::seconds> parse_retry_after(std::string_view text) {
    unsigned seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return std::chrono::seconds(seconds);
}

struct https_client::impl {
    collector_url url;
    client_options options;
    asio::io_context io;
    tls_trust trust;
    tcp::resolver resolver{io};
    std::unique_ptr<ssl_stream> stream;
    beast::flat_buffer buffer;

    impl(collector_url u, trust_config t, client_options o)
        : url(std::move(u)), options(std::move(o)), trust(std::move(t)) {}

    std::string where() const { return "collector " + url.authority(); }

    asio::awaitable<std::optional<http_outcome>> connect() {
        stream = std::make_unique<ssl_stream>(io, trust.context());
        buffer.clear();
        trust.prepare(stream->native_handle(), url.host, url.host_is_ip);
        auto [resolve_ec, endpoints] =
            co_await resolver.async_resolve(url.host, std::to_string(url.port), checked);
        if (resolve_ec)
            co_return failed(kind_of(resolve_ec),
                             "cannot resolve " + url.host + ": " + resolve_ec.message());
        auto& tcp_layer = beast::get_lowest_layer(*stream);
        tcp_layer.expires_after(options.connect_timeout);
        auto [connect_ec, endpoint] = co_await tcp_layer.async_connect(endpoints, checked);
        if (connect_ec)
            co_return failed(kind_of(connect_ec),
                             "cannot connect to " + where() + ": " + connect_ec.message());
        tcp_layer.expires_after(options.handshake_timeout);
        auto [tls_ec] = co_await stream->async_handshake(asio::ssl::stream_base::client, checked);
        if (tls_ec) {
            auto untrusted = trust.verify_failure(stream->native_handle());
            stream.reset();
            if (!untrusted.empty()) co_return failed(http_failure::untrusted, untrusted);
            co_return failed(kind_of(tls_ec),
                             "TLS handshake with " + where() + " failed: " + tls_ec.message());
        }
        co_return std::nullopt;
    }

    http::request<http::string_body> make_request(const http_request& r) const {
        http::request<http::string_body> req{http::verb::post, url.base_path + r.target, 11};
        req.set(http::field::host, url.authority());
        req.set(http::field::user_agent, options.user_agent);
        req.set(http::field::content_type, r.content_type);
        req.set(http::field::accept, "application/json");
        for (const auto& [name, value] : r.headers) req.set(name, value);
        req.body() = r.body;
        req.keep_alive(true);
        req.prepare_payload();
        return req;
    }

    // One request and its response on the open connection. *stale tells whether the
    // failure looks like a kept-alive connection the collector had closed.
    asio::awaitable<http_outcome> exchange(const http_request& r, bool* stale) {
        auto req = make_request(r);
        auto& tcp_layer = beast::get_lowest_layer(*stream);
        tcp_layer.expires_after(options.io_timeout);
        auto [write_ec, written] = co_await http::async_write(*stream, req, checked);
        if (write_ec) {
            *stale = stale_connection(write_ec);
            co_return failed(kind_of(write_ec),
                             "cannot send to " + where() + ": " + write_ec.message());
        }
        http::response_parser<http::string_body> parser;
        parser.body_limit(options.max_response_bytes);
        tcp_layer.expires_after(options.io_timeout);
        auto [read_ec, read] = co_await http::async_read(*stream, buffer, parser, checked);
        if (read_ec) {
            *stale = read == 0 && stale_connection(read_ec);
            co_return failed(kind_of(read_ec),
                             "no valid response from " + where() + ": " + read_ec.message());
        }
        auto& res = parser.get();
        http_outcome outcome;
        outcome.response.status = res.result_int();
        outcome.response.body = std::move(res.body());
        if (auto it = res.find(http::field::retry_after); it != res.end())
            outcome.response.retry_after = parse_retry_after(it->value());
        if (!res.keep_alive()) stream.reset();
        co_return outcome;
    }

    asio::awaitable<http_outcome> post(const http_request& r) {
        bool reused = stream != nullptr;
        for (int attempt = 0;; ++attempt) {
            if (!stream) {
                if (auto failure = co_await connect()) {
                    stream.reset();  // half-open: the next request starts over
                    co_return *failure;
                }
            }
            bool stale = false;
            auto outcome = co_await exchange(r, &stale);
            if (!outcome.ok()) stream.reset();
            if (outcome.ok() || !(stale && reused && attempt == 0)) co_return outcome;
        }
    }

    void cancel() {
        resolver.cancel();
        if (stream) beast::get_lowest_layer(*stream).cancel();
    }
};

https_client::https_client(collector_url url, trust_config trust, client_options options)
    : impl_(std::make_unique<impl>(std::move(url), std::move(trust), std::move(options))) {}

https_client::~https_client() = default;

void https_client::close() {
    // The collector treats a closed connection without TLS close_notify as the end of an
    // idle keep-alive connection; no request is ever in flight here.
    impl_->stream.reset();
}

http_outcome https_client::post(const http_request& request) {
    std::optional<http_outcome> result;
    std::exception_ptr error;
    asio::co_spawn(impl_->io, impl_->post(request),
                   [&](std::exception_ptr e, http_outcome outcome) {
                       if (e)
                           error = e;
                       else
                           result = std::move(outcome);
                   });
    impl_->io.restart();
    bool cancelled = false;
    while (!result && !error) {
        impl_->io.run_for(std::chrono::milliseconds(200));
        if (!cancelled && !result && !error && impl_->options.should_stop &&
            impl_->options.should_stop()) {
            impl_->cancel();
            cancelled = true;
        }
    }
    if (error) std::rethrow_exception(error);
    return *result;
}

}  // namespace muster::agent::wire
