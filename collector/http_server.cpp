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

#include <algorithm>
#include <map>
#include <optional>
#include <utility>
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

// Scanners and broken clients fail handshakes all day, one connection each. At info, so that
// the reasons can be counted without debug logging, but at most one line a second for each
// reason, carrying the count of those not logged since: a client opening connections in a
// loop must not grow the log without bound.
class handshake_failure_log {
  public:
    void note(const std::string& peer, bool evicted, const boost::system::error_code& ec) {
        const bool timed_out = ec == beast::error::timeout;
        std::string key =
            evicted     ? "evicted"
            : timed_out ? "timeout"
                        : std::string(ec.category().name()) + ":" + std::to_string(ec.value());
        std::uint64_t suppressed = 0;
        if (!due(std::move(key), suppressed)) return;
        const std::string since = suppressed == 0
                                      ? ""
                                      : " (and " + std::to_string(suppressed) +
                                            " more like it since the last such line, not logged)";
        if (evicted) {
            log()->info(
                "closed {}: TLS handshake not done, evicted for a new connection at "
                "max_connections{}",
                peer, since);
        } else if (timed_out) {
            log()->info("closed {}: no TLS handshake within header_timeout{}", peer, since);
        } else {
            log()->info("TLS handshake with {} failed: {}{}", peer, ec.message(), since);
        }
    }

  private:
    static constexpr std::chrono::seconds interval{1};
    // OpenSSL has a few hundred reasons; beyond this many the rest share one entry.
    static constexpr std::size_t max_reasons = 64;

    struct reason {
        std::chrono::steady_clock::time_point logged_at;
        std::uint64_t suppressed = 0;
    };

    // True when a line is due for key; suppressed is then how many were not logged since.
    bool due(std::string key, std::uint64_t& suppressed) {
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard lock(mutex_);
        if (reasons_.size() >= max_reasons && !reasons_.contains(key)) key = "other";
        auto [it, first] = reasons_.try_emplace(std::move(key));
        if (!first && now - it->second.logged_at < interval) {
            ++it->second.suppressed;
            return false;
        }
        it->second.logged_at = now;
        suppressed = std::exchange(it->second.suppressed, 0);
        return true;
    }

    std::mutex mutex_;
    std::map<std::string, reason> reasons_;
};

void log_handshake_failure(const std::string& peer, bool evicted,
                           const boost::system::error_code& ec) {
    static handshake_failure_log limited;
    limited.note(peer, evicted, ec);
}

}  // namespace

struct http_server::connection {
    connection(tcp::socket socket, asio::ssl::context& tls, http_server& owner,
               std::uint64_t number)
        : executor(socket.get_executor()),
          plain(std::move(socket)),
          tls_context(tls),
          server(owner),
          id(number) {
        boost::system::error_code ec;
        auto endpoint = plain.socket().remote_endpoint(ec);
        peer =
            ec ? "unknown" : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    }
    ~connection() { server.untrack(id); }

    // Gives the connection's max_connections slot back, once: at the end of serve() or when
    // the connection is evicted, whichever comes first.
    void release_slot() {
        if (holds_slot.exchange(false)) --server.serving_;
    }

    // `state` is when the connection became idle (steady clock ticks, > 0), busy while it
    // has a request in hand, or evicted. The accept loop evicts only by moving it from the
    // idle time it saw to evicted, the connection takes a request only by moving it from
    // idle to busy: whichever comes first wins, so a connection that took a request keeps
    // its slot, and an evicted one takes none after the request already on its way.
    static constexpr std::int64_t busy = 0;
    static constexpr std::int64_t evicted_state = -1;
    static std::int64_t now_ticks() {
        return std::chrono::steady_clock::now().time_since_epoch().count();
    }
    // Between requests (a connection is idle from its accept until its first request).
    // False when the connection has been evicted.
    bool mark_idle() {
        std::int64_t seen = busy;
        return state.compare_exchange_strong(seen, now_ticks()) || seen != evicted_state;
    }
    // A request header arrived (or the read ended). False when evicted.
    bool mark_busy() {
        std::int64_t seen = state.load();
        while (seen != evicted_state) {
            if (state.compare_exchange_weak(seen, busy)) return true;
        }
        return false;
    }
    // From any thread. True when the connection was still idle since idle_since.
    bool evict_if_idle_since(std::int64_t idle_since) {
        return idle_since > 0 && state.compare_exchange_strong(idle_since, evicted_state);
    }
    bool evicted() const { return state.load() == evicted_state; }

    // The TLS stream (with its ~80 KB of buffers) is made only once the client has sent its
    // first bytes: a socket opened and left silent costs little more than its descriptor.
    void start_tls() { stream.emplace(std::move(plain), tls_context); }
    // On the connection's strand only.
    beast::tcp_stream& lowest_layer() { return stream ? beast::get_lowest_layer(*stream) : plain; }

    asio::any_io_executor executor;  // the connection's strand
    beast::tcp_stream plain;         // until start_tls()
    std::optional<beast::ssl_stream<beast::tcp_stream>> stream;
    asio::ssl::context& tls_context;
    http_server& server;
    std::uint64_t id;
    std::string peer;
    // Waiting for bytes, a handshake or a request header, so that cancelling the socket
    // cancels only that wait; only touched on the connection's strand.
    bool idle = true;
    std::atomic<std::int64_t> state{now_ticks()};  // see mark_idle()
    std::atomic<bool> holds_slot{false};
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
        asio::post(conn->executor, [conn] {
            if (conn->idle) conn->lowest_layer().cancel();
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
        if (serving_ < limits_.max_connections || evict_oldest_idle()) {
            ++serving_;
            auto conn = track(std::move(socket));
            conn->holds_slot = true;
            auto executor = conn->executor;  // before conn is moved
            asio::co_spawn(executor, serve(std::move(conn)), asio::detached);
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

bool http_server::evict_oldest_idle() {
    // Locked first, examined after unlocking: dropping the last reference to a connection
    // runs its destructor, which takes connections_mutex_.
    std::vector<std::shared_ptr<connection>> open;
    {
        std::lock_guard lock(connections_mutex_);
        open.reserve(connections_.size());
        for (auto& [id, weak] : connections_) {
            if (auto conn = weak.lock()) open.push_back(std::move(conn));
        }
    }
    // Oldest first; a candidate that takes a request before it is evicted is skipped.
    std::vector<std::pair<std::int64_t, std::shared_ptr<connection>>> candidates;
    for (auto& conn : open) {
        auto since = conn->state.load();
        if (conn->holds_slot && since > 0) candidates.emplace_back(since, std::move(conn));
    }
    std::sort(candidates.begin(), candidates.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [since, victim] : candidates) {
        if (!victim->evict_if_idle_since(since)) continue;
        // The victim takes no request from now on, but one whose header had already arrived
        // when it was evicted is answered before it closes (Connection: close): the count is
        // over the limit by one until that request ends.
        victim->release_slot();
        // Captured by copy under its own name: clang 14 cannot capture a structured binding.
        asio::post(victim->executor, [conn = victim] {
            if (conn->idle) conn->lowest_layer().cancel();
        });
        return true;
    }
    return false;
}

asio::awaitable<boost::system::error_code> http_server::wait_first_bytes(
    connection& conn, std::chrono::steady_clock::time_point deadline) {
    // A plain socket wait has no deadline of its own: a timer cancels it. The timer's handler
    // may run after the wait is over (both run on the connection's strand), so it shares
    // only `state` and touches the socket only while the wait is pending.
    struct wait_state {
        bool done = false;
        bool timed_out = false;
    };
    auto state = std::make_shared<wait_state>();
    auto* socket = &conn.plain.socket();
    asio::steady_timer timer(conn.executor, deadline);
    timer.async_wait([state, socket](const boost::system::error_code& ec) {
        if (ec || state->done) return;
        state->timed_out = true;
        boost::system::error_code ignored;
        socket->cancel(ignored);
    });
    auto [ec] = co_await socket->async_wait(tcp::socket::wait_read, use_tuple);
    state->done = true;
    timer.cancel();
    if (state->timed_out) co_return beast::error::timeout;
    co_return ec;
}

asio::awaitable<void> http_server::refuse_busy(std::shared_ptr<connection> conn) {
    struct release {
        std::atomic<std::size_t>& count;
        ~release() { --count; }
    } released{refusing_};
    conn->start_tls();
    auto& tcp_layer = beast::get_lowest_layer(*conn->stream);
    tcp_layer.expires_after(busy_answer_timeout);
    auto [ec] = co_await conn->stream->async_handshake(asio::ssl::stream_base::server, use_tuple);
    if (ec) co_return;
    // The request is read (not its body) so that closing does not reset the connection
    // before the client has read the answer.
    beast::flat_buffer buffer;
    http::request_parser<http::empty_body> parser;
    co_await http::async_read_header(*conn->stream, buffer, parser, use_tuple);
    log()->warn("refused {}: 503 overloaded: {} connections open", conn->peer,
                limits_.max_connections);
    co_await answer_and_close(
        *conn->stream,
        error_response(http::status::service_unavailable, "overloaded",
                       "the collector has too many connections", std::chrono::seconds(1)),
        busy_answer_timeout);
}

asio::awaitable<void> http_server::serve(std::shared_ptr<connection> conn) {
    struct release {
        connection& conn;
        ~release() { conn.release_slot(); }
    } released{*conn};
    // One deadline for the first bytes, the handshake and the first request's header
    // together: a client that completes the handshake slowly must not get a second
    // header_timeout.
    const auto deadline = std::chrono::steady_clock::now() + limits_.header_timeout;
    if (auto ec = co_await wait_first_bytes(*conn, deadline); ec || conn->evicted()) {
        log_handshake_failure(conn->peer, conn->evicted(), ec);
        co_return;
    }
    conn->start_tls();
    auto& stream = *conn->stream;
    auto& tcp_layer = beast::get_lowest_layer(stream);
    tcp_layer.expires_at(deadline);
    auto [handshake_ec] =
        co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
    if (handshake_ec) {
        log_handshake_failure(conn->peer, conn->evicted(), handshake_ec);
        co_return;
    }
    beast::flat_buffer buffer;
    for (bool first = true; !stopping_; first = false) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(limits_.max_body);
        if (!conn->mark_idle()) {
            log()->info("closed {}: idle, evicted for a new connection at max_connections",
                        conn->peer);
            break;
        }
        conn->idle = true;
        if (!first) tcp_layer.expires_after(limits_.idle_timeout);
        auto [header_ec, header_bytes] =
            co_await http::async_read_header(stream, buffer, parser, use_tuple);
        conn->idle = false;
        // Evicted while a request header was arriving: that request is still answered.
        const bool evicted = !conn->mark_busy();
        if (header_ec && evicted) {
            log()->info("closed {}: idle, evicted for a new connection at max_connections",
                        conn->peer);
            co_return;
        }
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
        response.keep_alive(request.keep_alive() && !stopping_ && !evicted);
        response.prepare_payload();
        tcp_layer.expires_after(limits_.read_timeout);
        auto [write_ec, written] = co_await http::async_write(stream, response, use_tuple);
        if (write_ec || !response.keep_alive()) break;
    }
    tcp_layer.expires_after(tls_shutdown_timeout);
    co_await stream.async_shutdown(use_tuple);
}

}  // namespace muster::collector
