#pragma once
// The collector's configuration file (collector.yaml; every key documented in
// config/collector.yaml). Read with common/config.h: every key validated, unknown keys are
// errors. Relative paths are taken relative to the directory of the file.
#include "collector/incidents/settings.h"
#include "collector/maintenance.h"
#include "collector/notify/settings.h"
#include "common/config.h"
#include "common/logging.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace muster::collector {

struct listen_address {
    std::string host;  // an IP address or a DNS name, without brackets
    std::uint16_t port = 0;
};

// "127.0.0.1:8443", "[::1]:8443", "cmdb.example.org:443"; nullopt when not of that form.
std::optional<listen_address> parse_listen_address(std::string_view text);
// The inverse, with brackets around an IPv6 address.
std::string format_listen_address(const listen_address& address);

struct server_limits {
    std::uint64_t max_body = 32ull << 20;           // compressed request body
    std::uint64_t max_decompressed = 256ull << 20;  // a report body after gunzip
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds read_timeout{30'000};
    std::chrono::milliseconds idle_timeout{60'000};
    std::size_t max_connections = 1024;
    std::uint32_t agent_rate_per_minute = 60;
};

enum class enrollment_mode { auto_approve, approve };

struct collector_config {
    listen_address listen{"127.0.0.1", 8443};
    std::filesystem::path tls_cert_file;
    std::filesystem::path tls_key_file;
    std::filesystem::path database;
    enrollment_mode enrollment = enrollment_mode::auto_approve;
    std::vector<std::string> enrollment_token_sha256;  // lowercase hex SHA-256 of each token
    std::vector<std::string> admin_token_sha256;
    server_limits limits;
    std::chrono::seconds clock_skew{300};
    maintenance_settings maintenance;       // history:, staleness:, maintenance:
    notify::notify_settings notifications;  // notifications:
    // services:, incidents:
    incidents::incident_settings incidents;
    logging_options log;
};

// Throws config_error naming file, line and column for any problem.
collector_config load_collector_config(const std::filesystem::path& path);
// base_dir resolves relative paths.
collector_config read_collector_config(const yaml_document& doc,
                                       const std::filesystem::path& base_dir);

}  // namespace muster::collector
