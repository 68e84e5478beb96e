#include "collector/config.h"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <charconv>

namespace muster::collector {
namespace {

using namespace std::chrono_literals;

bool is_lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

std::optional<std::string> sha256_hex_problem(std::string_view text) {
    if (text.size() != 64 || !std::all_of(text.begin(), text.end(), is_lower_hex)) {
        return "expected the SHA-256 of a token as 64 lowercase hex digits";
    }
    return std::nullopt;
}

std::optional<std::string> listen_problem(std::string_view text) {
    if (parse_listen_address(text)) return std::nullopt;
    return "expected HOST:PORT, such as 127.0.0.1:8443 or [::1]:8443";
}

std::filesystem::path resolve(const std::filesystem::path& base, const std::string& path) {
    std::filesystem::path p(path);
    return p.is_absolute() ? p : base / p;
}

std::optional<std::string> not_empty(std::string_view text) {
    if (text.empty()) return "must not be empty";
    return std::nullopt;
}

server_limits read_limits(config_map limits) {
    server_limits out;
    constexpr std::uint64_t kib = 1024;
    out.max_body = limits.get_size("max_body", out.max_body, kib, 4096 * kib * kib);
    out.max_decompressed =
        limits.get_size("max_decompressed", out.max_decompressed, kib, 16 * kib * kib * kib);
    if (out.max_decompressed < out.max_body) {
        limits.fail("max_decompressed", "must be at least max_body");
    }
    out.header_timeout = limits.get_duration("header_timeout", out.header_timeout, 100ms, 10min);
    out.read_timeout = limits.get_duration("read_timeout", out.read_timeout, 100ms, 1h);
    out.idle_timeout = limits.get_duration("idle_timeout", out.idle_timeout, 100ms, 1h);
    out.max_connections = static_cast<std::size_t>(limits.get_int(
        "max_connections", static_cast<std::int64_t>(out.max_connections), 1, 1'000'000));
    out.agent_rate_per_minute =
        static_cast<std::uint32_t>(limits.get_int("agent_rate_per_minute", 60, 1, 100'000));
    return out;
}

void read_log(config_map log, logging_options& options) {
    options.level = log.get_enum("level", log_level_names, "info");
    options.format = *parse_log_format(log.get_enum("format", {"text", "json"}, "text"));
}

}  // namespace

std::optional<listen_address> parse_listen_address(std::string_view text) {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view host = text.substr(0, colon);
    std::string_view port_text = text.substr(colon + 1);
    bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (bracketed) host = host.substr(1, host.size() - 2);
    if (host.empty() || host.find_first_of("[]/ ") != std::string_view::npos) return std::nullopt;
    // An IPv6 address must be bracketed, so that its last group is not taken for the port.
    if (!bracketed && host.find(':') != std::string_view::npos) return std::nullopt;
    if (bracketed) {
        boost::system::error_code ec;
        auto address = boost::asio::ip::make_address(std::string(host), ec);
        if (ec || !address.is_v6()) return std::nullopt;
    }
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
        return std::nullopt;
    }
    return listen_address{std::string(host), static_cast<std::uint16_t>(port)};
}

std::string format_listen_address(const listen_address& address) {
    bool v6 = address.host.find(':') != std::string::npos;
    std::string host = v6 ? "[" + address.host + "]" : address.host;
    return host + ":" + std::to_string(address.port);
}

collector_config read_collector_config(const yaml_document& doc,
                                       const std::filesystem::path& base_dir) {
    collector_config config;
    read_config(doc, [&](config_map& root) {
        config.listen =
            *parse_listen_address(root.get_string("listen", "127.0.0.1:8443", listen_problem));
        config_map tls = root.get_map("tls");
        config.tls_cert_file = resolve(base_dir, tls.get_string("cert_file", not_empty));
        config.tls_key_file = resolve(base_dir, tls.get_string("key_file", not_empty));
        config.database = resolve(base_dir, root.get_string("database", not_empty));
        config_map enrollment = root.get_map("enrollment");
        config.enrollment = enrollment.get_enum("mode", {"auto", "approve"}, "auto") == "approve"
                                ? enrollment_mode::approve
                                : enrollment_mode::auto_approve;
        config.enrollment_token_sha256 =
            enrollment.get_string_list("token_sha256", {}, 64, sha256_hex_problem);
        config_map admin = root.get_map("admin");
        config.admin_token_sha256 =
            admin.get_string_list("token_sha256", {}, 64, sha256_hex_problem);
        config.limits = read_limits(root.get_map("limits"));
        config.clock_skew = std::chrono::duration_cast<std::chrono::seconds>(
            root.get_duration("clock_skew", 5min, 1s, std::chrono::hours(24 * 7)));
        read_log(root.get_map("log"), config.log);
        config.incidents = incidents::read_incident_settings(root);
        config.maintenance = read_maintenance_settings(root);
        config.notifications =
            notify::read_notify_settings(root.get_map("notifications"), base_dir);
    });
    config.log.name = "collector";
    return config;
}

collector_config load_collector_config(const std::filesystem::path& path) {
    auto base = std::filesystem::absolute(path).parent_path();
    return read_collector_config(load_yaml_file(path), base);
}

}  // namespace muster::collector
