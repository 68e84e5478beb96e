#pragma once
// A small HTTPS/1.1 client for the collector API (Boost.Beast over Asio and OpenSSL): one
// keep-alive connection, reused across requests and re-opened when the collector closed it.
// Every step has a deadline; a caller-supplied should_stop() is polled a few times a second
// so that a daemon asked to stop does not wait for a slow collector.
//
// Error policy: transport problems are values (http_outcome::failure with one readable
// line); any HTTP status is a response, not a failure. Only setup errors throw
// (tls_setup_error, from the constructor).
#include "agent/wire/tls.h"
#include "agent/wire/url.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace muster::agent::wire {

struct client_options {
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds handshake_timeout{10'000};
    std::chrono::milliseconds io_timeout{30'000};  // sending a request, reading a response
    std::size_t max_response_bytes = 1 << 20;
    std::string user_agent = "muster-agent";
    std::function<bool()> should_stop;  // true: abandon the request (daemon stopping)
};

struct http_request {
    std::string target;  // "/api/v1/reports", appended to the URL's base path
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

struct http_response {
    unsigned status = 0;
    std::string body;
    std::optional<std::chrono::seconds> retry_after;
};

// The value of a Retry-After header in seconds; nullopt unless it is delta-seconds (an HTTP
// date is not used by the collector).
std::optional<std::chrono::seconds> parse_retry_after(std::string_view text);

enum class http_failure {
    none,
    untrusted,  // certificate verification failed: nothing was sent
    network,    // resolve, connect, TLS or HTTP errors
    timeout,
    cancelled,  // should_stop() said so
};

struct http_outcome {
    http_failure failure = http_failure::none;
    std::string error;  // one line, for the log
    http_response response;
    bool ok() const { return failure == http_failure::none; }
};

class https_client {
  public:
    https_client(collector_url url, trust_config trust, client_options options = {});
    ~https_client();
    https_client(const https_client&) = delete;
    https_client& operator=(const https_client&) = delete;

    http_outcome post(const http_request& request);
    // Closes the kept-alive connection, if any.
    void close();

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace muster::agent::wire
