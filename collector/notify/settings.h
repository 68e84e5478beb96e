#pragma once
// The `notifications:` mapping of collector.yaml: the webhooks incidents are sent to and the
// retry policy (docs/notifications.md).
//
// Error policy: throws config_error naming file:line:column and the key (common/config.h).
#include "common/config.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace muster::collector::notify {

enum class webhook_format { json, pagerduty, slack };

std::string_view to_string(webhook_format format);

// An http(s) URL taken apart; the path includes the query.
struct webhook_url {
    bool tls = true;
    std::string host;  // without brackets
    std::uint16_t port = 443;
    std::string target = "/";
};

// nullopt when text is not http://HOST[:PORT][/PATH] or https://...
std::optional<webhook_url> parse_webhook_url(std::string_view text);

inline constexpr std::string_view pagerduty_default_url = "https://events.pagerduty.com/v2/enqueue";

struct webhook {
    std::string name;  // unique; names the webhook in logs and in notification_deliveries
    std::string url;
    webhook_url target;
    webhook_format format = webhook_format::json;
    std::string routing_key;        // pagerduty only; a secret, never logged
    std::filesystem::path ca_file;  // empty: the system's trusted CAs
    std::chrono::milliseconds timeout{10'000};
};

struct notify_settings {
    std::vector<webhook> webhooks;
    int max_attempts = 10;
    std::chrono::milliseconds backoff_initial{10'000};
    std::chrono::milliseconds backoff_max{std::chrono::minutes(10)};
    std::chrono::milliseconds poll_interval{1'000};
};

// base_dir resolves a relative ca_file.
notify_settings read_notify_settings(config_map notifications,
                                     const std::filesystem::path& base_dir);

}  // namespace muster::collector::notify
