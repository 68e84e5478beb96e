#include "agent/wire/url.h"

#include <arpa/inet.h>

#include <charconv>

namespace muster::agent::wire {
namespace {

bool is_ip_address(const std::string& host) {
    unsigned char buffer[16];
    return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

bool host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

std::optional<collector_url> fail(std::string* problem, std::string reason) {
    if (problem) *problem = std::move(reason);
    return std::nullopt;
}

}  // namespace

std::string collector_url::authority() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return h + ":" + std::to_string(port);
}

std::optional<collector_url> parse_collector_url(std::string_view text, std::string* problem) {
    constexpr std::string_view scheme = "https://";
    if (!text.starts_with(scheme)) return fail(problem, "the URL must start with https://");
    text.remove_prefix(scheme.size());
    auto slash = text.find('/');
    std::string_view authority = text.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? "" : text.substr(slash);
    while (path.ends_with('/')) path.remove_suffix(1);
    if (path.find_first_of("?#") != std::string_view::npos)
        return fail(problem, "the URL cannot have a query or fragment");

    collector_url url;
    url.base_path = std::string(path);
    std::string_view port_text;
    if (authority.starts_with('[')) {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return fail(problem, "unclosed '[' in the host");
        url.host = std::string(authority.substr(1, close - 1));
        auto rest = authority.substr(close + 1);
        if (!rest.empty() && !rest.starts_with(':')) return fail(problem, "junk after ']'");
        if (!rest.empty()) port_text = rest.substr(1);
        if (!is_ip_address(url.host)) return fail(problem, "not an IPv6 address in '[...]'");
    } else {
        auto colon = authority.find(':');
        url.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
        for (char c : url.host)
            if (!host_char(c)) return fail(problem, "invalid character in the host name");
    }
    if (url.host.empty()) return fail(problem, "the URL has no host");
    if (authority.find('@') != std::string_view::npos)
        return fail(problem, "the URL cannot carry user information");
    if (!port_text.empty() || authority.ends_with(':')) {
        unsigned port = 0;
        auto [end, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
            port > 65535)
            return fail(problem, "the port must be a number from 1 to 65535");
        url.port = static_cast<std::uint16_t>(port);
    }
    url.host_is_ip = is_ip_address(url.host);
    return url;
}

}  // namespace muster::agent::wire
