#pragma once
// musterctl's HTTPS client for the admin API (docs/api.md): one request per connection,
// TLS with the server's certificate always verified (the configured CA file, else the
// system's trust store) and its name checked against the URL's host, a deadline on the whole
// exchange.
//
// Error policy: ctl_error. Connection, TLS and timeout failures are exit_unreachable; an
// HTTP error status maps to its exit code (401, 403, 404, else exit_error) with the message
// of the API's error body.
#include "collector/ctl/settings.h"

#include <boost/json.hpp>

#include <chrono>
#include <map>
#include <string>

namespace muster::ctl {

class api_client {
  public:
    explicit api_client(connection_settings settings,
                        std::chrono::seconds timeout = std::chrono::seconds(60));

    // GET path?query (each query value percent-encoded); answers the parsed JSON body.
    boost::json::value get(const std::string& path,
                           const std::map<std::string, std::string>& query = {});
    boost::json::value post(const std::string& path, const boost::json::object& body);

  private:
    boost::json::value send(const std::string& method, const std::string& target,
                            const std::string& body);
    connection_settings settings_;
    std::chrono::seconds timeout_;
};

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view text);

}  // namespace muster::ctl
