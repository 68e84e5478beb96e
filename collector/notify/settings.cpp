#include "collector/notify/settings.h"

#include <boost/asio/ip/address.hpp>

#include <charconv>
#include <set>

namespace muster::collector::notify {
namespace {

using namespace std::chrono_literals;

bool is_loopback(const std::string& host) {
    if (host == "localhost") return true;
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(host, ec);
    return !ec && address.is_loopback();
}

std::optional<std::string> url_problem(std::string_view text) {
    auto url = parse_webhook_url(text);
    if (!url) return "expected an http:// or https:// URL such as https://hooks.example.org/muster";
    // Incident details are not sent in clear text across a network.
    if (!url->tls && !is_loopback(url->host)) {
        return "plain http is allowed only to a loopback address; use https";
    }
    return std::nullopt;
}

std::optional<std::string> name_problem(std::string_view text) {
    if (text.empty() || text.size() > 64) return "expected a name of 1 to 64 characters";
    for (char c : text) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok) return "expected letters, digits, '-', '_' or '.'";
    }
    return std::nullopt;
}

std::optional<webhook_format> format_from(std::string_view text) {
    if (text == "json") return webhook_format::json;
    if (text == "pagerduty") return webhook_format::pagerduty;
    if (text == "slack") return webhook_format::slack;
    return std::nullopt;
}

webhook read_webhook(config_map& item, const std::filesystem::path& base_dir) {
    webhook out;
    out.name = item.get_string("name", name_problem);
    out.format = *format_from(item.get_enum("format", {"json", "pagerduty", "slack"}, "json"));
    std::string_view default_url =
        out.format == webhook_format::pagerduty ? pagerduty_default_url : std::string_view{};
    out.url = default_url.empty() ? item.get_string("url", url_problem)
                                  : item.get_string("url", default_url, url_problem);
    out.target = *parse_webhook_url(out.url);
    if (out.format == webhook_format::pagerduty) {
        out.routing_key = item.get_string("routing_key", [](std::string_view key) {
            return key.empty() ? std::optional<std::string>("must not be empty") : std::nullopt;
        });
    } else if (item.has("routing_key")) {
        item.fail("routing_key", "only a pagerduty webhook takes a routing_key");
    }
    std::string ca = item.get_string("ca_file", "");
    if (!ca.empty()) {
        std::filesystem::path path(ca);
        out.ca_file = path.is_absolute() ? path : base_dir / path;
    }
    out.timeout = item.get_duration("timeout", out.timeout, 100ms, 5min);
    return out;
}

}  // namespace

std::string_view to_string(webhook_format format) {
    switch (format) {
        case webhook_format::json:
            return "json";
        case webhook_format::pagerduty:
            return "pagerduty";
        case webhook_format::slack:
            return "slack";
    }
    return "json";
}

std::optional<webhook_url> parse_webhook_url(std::string_view text) {
    webhook_url url;
    if (text.starts_with("https://")) {
        text.remove_prefix(8);
    } else if (text.starts_with("http://")) {
        text.remove_prefix(7);
        url.tls = false;
        url.port = 80;
    } else {
        return std::nullopt;
    }
    auto slash = text.find_first_of("/?");
    std::string_view authority = text.substr(0, slash);
    if (slash != std::string_view::npos) {
        std::string_view rest = text.substr(slash);
        url.target = rest.front() == '?' ? "/" + std::string(rest) : std::string(rest);
    }
    if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no userinfo
    std::string_view host = authority;
    std::string_view port;
    if (authority.starts_with("[")) {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = authority.substr(1, close - 1);
        std::string_view rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return std::nullopt;
            port = rest.substr(1);
        }
    } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty() || host.find_first_of(" \t[]") != std::string_view::npos) return std::nullopt;
    if (!port.empty() || authority.ends_with(":")) {
        unsigned value = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
            return std::nullopt;
        }
        url.port = static_cast<std::uint16_t>(value);
    }
    url.host = std::string(host);
    for (char c : url.target) {
        if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return std::nullopt;
    }
    return url;
}

notify_settings read_notify_settings(config_map notifications,
                                     const std::filesystem::path& base_dir) {
    notify_settings out;
    std::set<std::string> names;
    for (auto& item : notifications.get_map_list("webhooks", 64)) {
        auto hook = read_webhook(item, base_dir);
        if (!names.insert(hook.name).second) {
            item.fail("name", "another webhook already has the name '" + hook.name + "'");
        }
        out.webhooks.push_back(std::move(hook));
    }
    config_map retry = notifications.get_map("retry");
    out.max_attempts = static_cast<int>(retry.get_int("max_attempts", out.max_attempts, 1, 1000));
    out.backoff_initial = retry.get_duration("initial", out.backoff_initial, 100ms, 1h);
    out.backoff_max = retry.get_duration("max", out.backoff_max, 100ms, 24h);
    if (out.backoff_max < out.backoff_initial) retry.fail("max", "must be at least initial");
    out.poll_interval = notifications.get_duration("poll_interval", out.poll_interval, 100ms, 1min);
    return out;
}

}  // namespace muster::collector::notify
