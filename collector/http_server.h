#pragma once
// The collector's HTTPS transport: Boost.Beast over Asio and OpenSSL, with C++20
// coroutines. One coroutine per connection: TLS handshake, then a keep-alive loop of
// read header / read body / handle / write. It knows nothing of the API: requests go to a
// request_handler (routes.h).
//
// Limits (config "limits"): the TLS handshake and the first request header must together
// arrive within header_timeout (idle_timeout for a keep-alive connection's next request),
// each body within read_timeout, so a slow client cannot hold a connection (slowloris); a
// body above max_body is answered 413. At max_connections a new connection takes the slot of
// the connection that has been idle longest (in its handshake, or waiting for a request
// header): sockets opened and left silent cannot lock clients out. Only when every slot has
// a request in hand is a client answered 503 and disconnected. A connection's TLS state is
// made when its first byte arrives, so a silent socket costs little memory.
//
// Shutdown: stop() closes the listener and the connections that are between requests;
// requests in flight are finished and answered, then their connections close.
//
// Error policy: network errors are error_codes, logged at debug level (a client that goes
// away is normal); every refusal is logged in one line with its reason, failed TLS
// handshakes at most one line a second per reason (with the count of those not logged).
#include "collector/config.h"
#include "collector/http_types.h"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace muster::collector {

using request_handler =
    std::function<boost::asio::awaitable<http_response>(const http_request&, std::string peer)>;

class http_server {
  public:
    http_server(boost::asio::io_context& io, boost::asio::ssl::context& tls,
                request_handler handler, server_limits limits);
    ~http_server();

    // Binds and starts accepting. Throws boost::system::system_error when it cannot bind.
    void start(const boost::asio::ip::tcp::endpoint& endpoint);
    boost::asio::ip::tcp::endpoint local_endpoint() const;

    // Thread-safe; see the header comment.
    void stop();

  private:
    struct connection;

    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> serve(std::shared_ptr<connection> conn);
    boost::asio::awaitable<void> refuse_busy(std::shared_ptr<connection> conn);
    // Until the client sends its first bytes (or the deadline, or an eviction).
    static boost::asio::awaitable<boost::system::error_code> wait_first_bytes(
        connection& conn, std::chrono::steady_clock::time_point deadline);
    // At max_connections: closes the connection that has waited longest for a handshake or a
    // request, so that idle sockets cannot lock clients out. False when none is idle.
    bool evict_oldest_idle();
    std::shared_ptr<connection> track(boost::asio::ip::tcp::socket socket);
    void untrack(std::uint64_t id);

    boost::asio::io_context& io_;
    boost::asio::ssl::context& tls_;
    request_handler handler_;
    server_limits limits_;
    boost::asio::strand<boost::asio::io_context::executor_type> accept_strand_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> serving_{0};  // connections counted against max_connections
    std::atomic<std::size_t> refusing_{0};

    std::mutex connections_mutex_;
    std::map<std::uint64_t, std::weak_ptr<connection>> connections_;
    std::uint64_t next_id_ = 0;
};

}  // namespace muster::collector
