#pragma once
// A small HTTPS client for tests (Boost.Beast): one request per connection, the server's
// certificate verified against a CA file with host name verification, a deadline on
// everything. Throws boost::system::system_error when the connection or the TLS handshake
// fails (for example an untrusted certificate).
#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace muster::test {

struct https_response {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // field names in lower case
};

using header_list = std::vector<std::pair<std::string, std::string>>;

// url: https://HOST:PORT/PATH (IPv6 host in brackets).
https_response https_request(const std::string& method, const std::string& url,
                             const header_list& headers, const std::string& body,
                             const std::string& ca_file,
                             std::chrono::seconds timeout = std::chrono::seconds(30));

inline https_response https_post(const std::string& url, const header_list& headers,
                                 const std::string& body, const std::string& ca_file) {
    return https_request("POST", url, headers, body, ca_file);
}

inline https_response https_get(const std::string& url, const std::string& ca_file) {
    return https_request("GET", url, {}, "", ca_file);
}

}  // namespace muster::test
