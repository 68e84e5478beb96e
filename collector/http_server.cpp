#include "collector/http_server.h"

#include "common/logging.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <vector>

namespace muster::collector {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// How long a connection beyond the limit may take to say what it wants before its 503.
constexpr std::chrono::seconds busy_answer_timeout{5};
constexpr std::chrono::seconds tls_shutdown_timeout{5};

std::shared_ptr<spdlog::logger> log() {
    return get_logger("http");
}

}  // namespace

struct http_server::connection {
    connection(tcp::socket socket, asio::ssl::context& tls, http_server& owner,
               std::uint64_t number)
        : stream(std::move(socket), tls), server(owner), id(number) {
        boost::system::error_code ec;
        auto endpoint = beast::get_lowest_layer(stream).socket().remote_endpoint(ec);
        peer =
            ec ? "unknown" : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    }
    ~connection() { server.untrack(id); }

    beast::ssl_stream<beast::tcp_stream> stream;
    http_server& server;
    std::uint64_t id;
    std::string peer;
    bool idle = true;  // between requests; only touched on the connection's strand
};

http_server::http_server(asio::io_context& io, asio::ssl::context& tls, request_handler handler,
                         server_limits limits)
    : io_(io),
      tls_(tls),
      handler_(std::move(handler)),
      limits_(limits),
      accept_strand_(asio::make_strand(io)),
      acceptor_(accept_strand_) {}

http_server::~http_server() = default;

void http_server::start(const tcp::endpoint& endpoint) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    asio::co_spawn(accept_strand_, accept_loop(), asio::detached);
}

tcp::endpoint http_server::local_endpoint() const {
    return acceptor_.local_endpoint();
}

void http_server::stop() {
    if (stopping_.exchange(true)) return;
    asio::post(accept_strand_, [this] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
    });
    // Collected first, posted after unlocking: the last reference to a connection may be
    // dropped here, and its destructor takes connections_mutex_.
    std::vector<std::shared_ptr<connection>> open;
    {
        std::lock_guard lock(connections_mutex_);
        for (auto& [id, weak] : connections_) {
            if (auto conn = weak.lock()) open.push_back(std::move(conn));
        }
    }
    for (auto& conn : open) {
        asio::post(conn->stream.get_executor(), [conn] {
            if (conn->idle) beast::get_lowest_layer(conn->stream).cancel();
        });
    }
}

std::shared_ptr<http_server::connection> http_server::track(tcp::socket socket) {
    std::lock_guard lock(connections_mutex_);
    auto conn = std::make_shared<connection>(std::move(socket), tls_, *this, next_id_++);
    connections_.emplace(conn->id, conn);
    return conn;
}

void http_server::untrack(std::uint64_t id) {
    std::lock_guard lock(connections_mutex_);
    connections_.erase(id);
}

asio::awaitable<void> http_server::accept_loop() {
    while (!stopping_) {
        auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), use_tuple);
        if (ec == asio::error::operation_aborted || stopping_) break;
        if (ec) {
            // Out of file descriptors and the like: pause rather than spin.
            log()->warn("accept failed: {}", ec.message());
            asio::steady_timer pause(accept_strand_, std::chrono::milliseconds(100));
            co_await pause.async_wait(use_tuple);
            continue;
        }
        if (serving_ < limits_.max_connections) {
            ++serving_;
            asio::co_spawn(socket.get_executor(), serve(track(std::move(socket))), asio::detached);
        } else if (refusing_ < limits_.max_connections) {
            ++refusing_;
            asio::co_spawn(socket.get_executor(), refuse_busy(track(std::move(socket))),
                           asio::detached);
        } else {
            log()->warn("refused a connection: {} connections open and as many being refused",
                        limits_.max_connections);
        }
    }
}

namespace {

// Sends response and ends TLS politely; errors only mean the client has gone.
asio::awaitable<void> answer_and_close(beast::ssl_stream<beast::tcp_stream>& stream,
                                       http_response response, std::chrono::milliseconds timeout) {
    response.keep_alive(false);
    response.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(timeout);
    co_await http::async_write(stream, response, use_tuple);
    beast::get_lowest_layer(stream).expires_after(tls_shutdown_timeout);
    co_await stream.async_shutdown(use_tuple);
}

}  // namespace

asio::awaitable<void> http_server::refuse_busy(std::shared_ptr<connection> conn) {
    struct release {
        std::atomic<std::size_t>& count;
        ~release() { --count; }
    } released{refusing_};
    auto& tcp_layer = beast::get_lowest_layer(conn->stream);
    tcp_layer.expires_after(busy_answer_timeout);
    auto [ec] = co_await conn->stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
    if (ec) co_return;
    // The request is read (not its body) so that closing does not reset the connection
    // before the client has read the answer.
    beast::flat_buffer buffer;
    http::request_parser<http::empty_body> parser;
    co_await http::async_read_header(conn->stream, buffer, parser, use_tuple);
    log()->warn("refused {}: 503 overloaded: {} connections open", conn->peer,
                limits_.max_connections);
    co_await answer_and_close(
        conn->stream,
        error_response(http::status::service_unavailable, "overloaded",
                       "the collector has too many connections", std::chrono::seconds(1)),
        busy_answer_timeout);
}

asio::awaitable<void> http_server::serve(std::shared_ptr<connection> conn) {
    struct release {
        std::atomic<std::size_t>& count;
        ~release() { --count; }
    } released{serving_};
    auto& stream = conn->stream;
    auto& tcp_layer = beast::get_lowest_layer(stream);

    tcp_layer.expires_after(limits_.header_timeout);
    auto [handshake_ec] =
        co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
    if (handshake_ec) {
        log()->debug("TLS handshake with {} failed: {}", conn->peer, handshake_ec.message());
        co_return;
    }
    beast::flat_buffer buffer;
    for (bool first = true; !stopping_; first = false) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(limits_.max_body);
        conn->idle = true;
        tcp_layer.expires_after(first ? limits_.header_timeout : limits_.idle_timeout);
        auto [header_ec, header_bytes] =
            co_await http::async_read_header(stream, buffer, parser, use_tuple);
        conn->idle = false;
        if (!header_ec) {
            tcp_layer.expires_after(limits_.read_timeout);
            std::tie(header_ec, header_bytes) =
                co_await http::async_read(stream, buffer, parser, use_tuple);
        }
        if (header_ec == http::error::body_limit) {
            log()->warn("refused {}: 413 too_large: body above {} bytes", conn->peer,
                        limits_.max_body);
            co_await answer_and_close(
                stream,
                error_response(
                    http::status::payload_too_large, "too_large",
                    "the request body exceeds " + std::to_string(limits_.max_body) + " bytes"),
                limits_.read_timeout);
            co_return;
        }
        if (header_ec == beast::error::timeout) {
            log()->info("closed {}: {}", conn->peer,
                        parser.is_header_done() ? "request body not received within read_timeout"
                                                : "no complete request header in time");
            co_return;
        }
        if (header_ec) {
            log()->debug("connection {} ended: {}", conn->peer, header_ec.message());
            co_return;
        }
        http_request request = parser.release();
        http_response response = co_await handler_(request, conn->peer);
        response.keep_alive(request.keep_alive() && !stopping_);
        response.prepare_payload();
        tcp_layer.expires_after(limits_.read_timeout);
        auto [write_ec, written] = co_await http::async_write(stream, response, use_tuple);
        if (write_ec || !response.keep_alive()) break;
    }
    tcp_layer.expires_after(tls_shutdown_timeout);
    co_await stream.async_shutdown(use_tuple);
}

}  // namespace muster::collector
