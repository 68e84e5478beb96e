#pragma once
// The collector URL of the agent config: https://host[:port][/base/path]. Only https.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace muster::agent::wire {

struct collector_url {
    std::string host;  // a DNS name or an IP address, without IPv6 brackets
    std::uint16_t port = 443;
    std::string base_path;  // "" or "/prefix" without a trailing slash
    bool host_is_ip = false;

    // "host:port" with IPv6 brackets, for logs and the Host header.
    std::string authority() const;
};

// Nullopt with a reason in *problem when text is not a usable https URL.
std::optional<collector_url> parse_collector_url(std::string_view text, std::string* problem);

}  // namespace muster::agent::wire
