#pragma once
// One keep-alive HTTPS connection to the collector, driven by one coroutine: POST a body,
// get the status and body back. The certificate is verified against the CA file and the
// URL's host, as the real agent does.
//
// Error policy: network code passes error_code; a request never throws. A kept-alive
// connection the collector closed between requests is reopened and the request sent once
// more (both API calls are idempotent), so only real failures reach the caller.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace muster::loadgen {

struct collector_url {
    std::string host;
    std::string port;
    std::string base_path;  // "" or "/prefix"
};

// "https://HOST[:PORT][/PATH]"; nullopt for anything else.
std::optional<collector_url> parse_url(const std::string& url);

// A TLS client context trusting only ca_file. Throws boost::system::system_error when the
// file cannot be loaded.
boost::asio::ssl::context make_tls_context(const std::string& ca_file);

struct http_result {
    boost::system::error_code ec;  // set: no response (connect_failed tells which step)
    bool connect_failed = false;   // could not connect or complete the handshake
    unsigned status = 0;
    std::string body;
    std::optional<std::chrono::seconds> retry_after;
    std::size_t bytes_sent = 0;  // request header and body, as written
};

class connection {
  public:
    connection(boost::asio::any_io_executor executor, boost::asio::ssl::context& tls,
               collector_url url, std::chrono::seconds timeout);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    boost::asio::awaitable<http_result> post(
        const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers,
        const std::string& body);

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace muster::loadgen
