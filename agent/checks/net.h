#pragma once
// What the network checks share (tcp_connect, http, certificate_expiry): connecting within
// the run's deadline, and TLS with or without verification. Everything runs on a private
// io_context driven by the check's own thread, so a check holds one thread and no more.
//
// Error policy: failures are values, one readable line each ("connection refused",
// "timed out after 10 s", "certificate verify failed: self-signed certificate").
#include "agent/checks/check.h"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace muster::agent::checks::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Runs task on io until it ends. At the run's deadline, or when the run is cancelled,
// stop() is called once (it cancels what is pending, making the task end with an error) and
// the task is still waited for.
template <class T>
T drive(asio::io_context& io, asio::awaitable<T> task, const run_context& ctx,
        const std::function<void()>& stop) {
    std::optional<T> result;
    std::exception_ptr error;
    asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
        if (e)
            error = e;
        else
            result = std::move(value);
    });
    bool stopped = false;
    while (!result && !error) {
        io.run_for(std::chrono::milliseconds(50));
        if (!stopped && !result && !error &&
            (std::chrono::steady_clock::now() >= ctx.deadline || ctx.should_stop())) {
            stop();
            stopped = true;
        }
    }
    if (error) std::rethrow_exception(error);
    return std::move(*result);
}

// Resolves host and connects stream to the first address that accepts, by deadline.
// Returns "" when connected, otherwise the reason.
asio::awaitable<std::string> connect(boost::beast::tcp_stream& stream, tcp::resolver& resolver,
                                     std::string host, std::uint16_t port,
                                     std::chrono::steady_clock::time_point deadline);

// "host:port", with brackets around an IPv6 address.
std::string authority(const std::string& host, std::uint16_t port);
bool is_ip_address(const std::string& host);

// A TLS client context. verify: the peer's chain is checked against ca_file, or the system's
// CA store when ca_file is empty; otherwise anything is accepted (to read an expired
// certificate's dates).
asio::ssl::context tls_context(bool verify, const std::filesystem::path& ca_file);

// Prepares one TLS connection to host: SNI for a name, and the name or IP check when verifying.
void prepare_tls(SSL* ssl, const std::string& host, bool verify);

// After a failed handshake: why the certificate was refused, or "" for another reason.
std::string verify_failure(const SSL* ssl);

}  // namespace muster::agent::checks::net
