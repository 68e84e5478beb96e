#pragma once
// The HTTP message types shared by the transport (http_server) and the handlers (routes).
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace muster::collector {

namespace http = boost::beast::http;
using http_request = http::request<http::string_body>;
using http_response = http::response<http::string_body>;

// A JSON response; body is JSON text.
http_response json_response(http::status status, std::string body);

// The error shape of docs/protocol.md:
// {"error": {"status": 401, "code": "bad_signature", "message": "…"}}
// retry_after adds a Retry-After header (seconds).
http_response error_response(http::status status, std::string_view code, std::string_view message,
                             std::optional<std::chrono::seconds> retry_after = std::nullopt);

// Why a request is refused: becomes an error response and one log line.
struct refusal {
    http::status status;
    std::string code;     // protocol.md error code, such as "bad_signature"
    std::string message;  // never contains a secret
    std::optional<std::chrono::seconds> retry_after = std::nullopt;
};

http_response to_response(const refusal& r);

}  // namespace muster::collector
