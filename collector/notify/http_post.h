#pragma once
// One webhook POST over HTTP/1.1 (Beast), TLS with certificate and host name verification
// for https (the webhook's ca_file, or the system's trusted CAs). One request per
// connection: notifications are few, and a fresh connection never meets a stale one.
//
// Error policy: never throws; a network or TLS failure is a post_result with status 0 and
// the error's message. The whole exchange is bounded by the webhook's timeout.
#include "collector/notify/settings.h"

#include <chrono>
#include <optional>
#include <string>

namespace muster::collector::notify {

struct post_result {
    int status = 0;          // HTTP status; 0 when there was no answer
    std::string error;       // for status 0: what went wrong
    std::string first_line;  // the first line of the response body (for the log)
    std::optional<std::chrono::seconds> retry_after;  // a Retry-After header in seconds
};

post_result http_post(const webhook& hook, const std::string& body);

}  // namespace muster::collector::notify
