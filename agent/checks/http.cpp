// http: a GET of `url` (http or https) must answer the expected status (default
// 200) within the timeout. Over https the certificate is always verified,
// against the system's CA store or `ca_file`, and must name the URL's host.
// Redirects are not followed: a 301 is a status like any other. Only the status
// line and headers are read. The value is the time to the response headers.
#include "agent/checks/keys.h"
#include "agent/checks/net.h"
#include "agent/checks/types.h"
#include "common/version_info.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <charconv>
#include <cmath>

namespace muster::agent::checks {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using clock = std::chrono::steady_clock;
constexpr auto checked = asio::as_tuple(asio::use_awaitable);

struct http_url {
    bool tls = false;
    std::string host;
    std::uint16_t port = 80;
    std::string target = "/";
};

std::optional<http_url> parse_url(std::string_view text, std::string* problem) {
    http_url url;
    if (text.starts_with("https://")) {
        url.tls = true;
        url.port = 443;
        text.remove_prefix(8);
    } else if (text.starts_with("http://")) {
        text.remove_prefix(7);
    } else {
        *problem = "the URL must start with http:// or https://";
        return std::nullopt;
    }
    auto slash = text.find_first_of("/?#");
    auto authority = text.substr(0, slash);
    if (slash != std::string_view::npos) {
        auto rest = text.substr(slash);
        rest = rest.substr(0, rest.find('#'));
        url.target = rest.starts_with('/') ? std::string(rest) : "/" + std::string(rest);
    }
    if (authority.find('@') != std::string_view::npos) {
        *problem = "the URL cannot carry user information";
        return std::nullopt;
    }
    std::string_view port_text;
    if (authority.starts_with('[')) {
        auto close = authority.find(']');
        if (close == std::string_view::npos) {
            *problem = "unclosed '[' in the host";
            return std::nullopt;
        }
        url.host = std::string(authority.substr(1, close - 1));
        auto rest = authority.substr(close + 1);
        if (rest.starts_with(':')) port_text = rest.substr(1);
    } else {
        auto colon = authority.find(':');
        url.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (url.host.empty()) {
        *problem = "the URL has no host";
        return std::nullopt;
    }
    if (!port_text.empty() || authority.ends_with(':')) {
        unsigned port = 0;
        auto [end, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
            port > 65535) {
            *problem = "the port must be a number from 1 to 65535";
            return std::nullopt;
        }
        url.port = static_cast<std::uint16_t>(port);
    }
    return url;
}

struct settings {
    std::string url_text;
    http_url url;
    unsigned expected_status = 200;
    std::string ca_file;
};

template <class Stream>
asio::awaitable<std::string> get_status(Stream& stream, const settings& s, unsigned* status) {
    http::request<http::empty_body> req{http::verb::get, s.url.target, 11};
    req.set(http::field::host, net::authority(s.url.host, s.url.port));
    req.set(http::field::user_agent, std::string("muster-agent/") + muster::product_version);
    req.set(http::field::connection, "close");
    auto [write_ec, written] = co_await http::async_write(stream, req, checked);
    if (write_ec) co_return "cannot send the request: " + write_ec.message();
    beast::flat_buffer buffer;
    http::response_parser<http::empty_body> parser;
    parser.header_limit(64 * 1024);
    auto [read_ec, read] = co_await http::async_read_header(stream, buffer, parser, checked);
    if (read_ec) {
        if (read_ec == beast::error::timeout) co_return std::string("no response: timed out");
        co_return "no valid response: " + read_ec.message();
    }
    *status = parser.get().result_int();
    co_return "";
}

check_outcome judge(const settings& s, unsigned status, double ms) {
    auto text = "HTTP " + std::to_string(status) + " from " + s.url_text + " in " +
                format_number(ms, 0) + " ms";
    ms = std::round(ms * 10) / 10;
    if (status == s.expected_status) return outcome_of(check_status::ok, text, ms, "ms");
    return outcome_of(check_status::critical,
                      text + " (expected " + std::to_string(s.expected_status) + ")", ms, "ms");
}

asio::awaitable<check_outcome> fetch(const settings& s, beast::tcp_stream& tcp,
                                     net::tcp::resolver& resolver, asio::ssl::context* tls,
                                     clock::time_point deadline) {
    auto start = clock::now();
    auto problem = co_await net::connect(tcp, resolver, s.url.host, s.url.port, deadline);
    if (!problem.empty()) co_return critical(problem);
    unsigned status = 0;
    if (!tls) {
        problem = co_await get_status(tcp, s, &status);
    } else {
        beast::ssl_stream<beast::tcp_stream&> stream(tcp, *tls);
        net::prepare_tls(stream.native_handle(), s.url.host, true);
        auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, checked);
        if (ec) {
            auto refused = net::verify_failure(stream.native_handle());
            co_return critical("TLS with " + net::authority(s.url.host, s.url.port) + ": " +
                               (refused.empty() ? ec.message() : refused));
        }
        problem = co_await get_status(stream, s, &status);
    }
    if (!problem.empty()) co_return critical(s.url_text + ": " + problem);
    co_return judge(s, status,
                    std::chrono::duration<double, std::milli>(clock::now() - start).count());
}

check_outcome run_http(const settings& s, const run_context& ctx) {
    asio::io_context io;
    std::optional<asio::ssl::context> tls;
    if (s.url.tls) {
        try {
            tls.emplace(net::tls_context(true, s.ca_file));
        } catch (const std::exception& e) {
            return unknown("cannot load the CA " +
                           (s.ca_file.empty() ? std::string("store") : "file " + s.ca_file) + ": " +
                           e.what());
        }
    }
    net::tcp::resolver resolver(io);
    beast::tcp_stream tcp(io);
    tcp.expires_at(ctx.deadline);
    return net::drive(io, fetch(s, tcp, resolver, tls ? &*tls : nullptr, ctx.deadline), ctx, [&] {
        resolver.cancel();
        tcp.cancel();
    });
}

std::string url_for_messages(const std::string& url) {
    auto cut = url.find_first_of("?#");
    std::string shown = url.substr(0, cut);
    auto scheme_end = shown.find("://");
    auto authority_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    auto authority_end = shown.find('/', authority_start);
    auto at = shown.rfind('@', authority_end);
    if (at != std::string::npos && at >= authority_start)
        shown.erase(authority_start, at + 1 - authority_start);
    if (cut != std::string::npos) shown += "?...";
    return shown;
}

}  // namespace

check_fn read_http(config_map& map) {
    settings s;
    s.url_text = map.get_string("url", [&](std::string_view text) {
        std::string problem;
        auto url = parse_url(text, &problem);
        if (!url) return std::optional<std::string>(problem);
        s.url = *url;
        return std::optional<std::string>();
    });
    // Results travel to the CMDB, incidents and webhooks: a secret in the query string
    // (?token=...) or in user:password@ must not, so messages name the URL without them.
    s.url_text = url_for_messages(s.url_text);
    s.expected_status = static_cast<unsigned>(map.get_int("expected_status", 200, 100, 599));
    if (map.has("ca_file")) s.ca_file = get_absolute_path(map, "ca_file");
    if (!s.ca_file.empty() && !s.url.tls)
        map.fail("ca_file", "a CA file only applies to an https:// URL");
    return [s](const run_context& ctx) { return run_http(s, ctx); };
}

}  // namespace muster::agent::checks
