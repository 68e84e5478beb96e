#pragma once
// The agent's configuration file (/etc/muster/agent.yaml; commented example in
// config/agent.yaml). Only what the agent uses is accepted: a key that would be read and
// then ignored is an error, like any unknown key.
//
// `inventory` and `check` need only tags, log and checks, so a file with just those is valid
// for them; `once` and `run` talk to a collector and load the file with
// config_use::delivery, which makes collector.url, a trust anchor (collector.ca_file or
// collector.ca_fingerprint) and state_dir required.
#include "agent/checks/check.h"
#include "agent/wire/url.h"
#include "common/config.h"
#include "common/logging.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace muster::agent {

inline constexpr std::size_t max_tags = 64;
inline constexpr std::size_t max_tag_length = 64;

enum class config_use { inventory, delivery };

struct collector_config {
    wire::collector_url url;
    std::string url_text;  // as written, for logs
    // Exactly one of the two is set: the CA that signed the collector's certificate, or the
    // SHA-256 of the collector certificate's DER (64 lower-case hex digits, no colons).
    std::filesystem::path ca_file;
    std::string ca_fingerprint;
    std::string enrollment_token;  // a secret: never logged
};

struct agent_config {
    // Free labels sent with the inventory ("prod", "dc:paris"): [A-Za-z0-9_.:-], at most
    // max_tag_length characters each, at most max_tags of them, no duplicates.
    std::vector<std::string> tags;
    logging_options log;  // only level and format come from the file

    std::optional<collector_config> collector;  // always set for config_use::delivery
    std::filesystem::path state_dir;            // absolute; always set for delivery
    std::chrono::milliseconds inventory_interval = std::chrono::hours(1);
    std::chrono::milliseconds inventory_splay = std::chrono::minutes(5);
    std::uint64_t spool_max_bytes = 64ull << 20;
    // Health checks (docs/checks.md), in the order of the file; ids unique.
    std::vector<checks::check_config> checks;
};

// Throws config_error naming file, line and column for any problem.
agent_config load_agent_config(const std::filesystem::path& path,
                               config_use use = config_use::inventory);
agent_config read_agent_config(const yaml_document& doc, config_use use = config_use::inventory);

// "ab:CD:..." or "abcd..." to 64 lower-case hex digits; nullopt when not a SHA-256.
std::optional<std::string> normalize_fingerprint(std::string_view text);

}  // namespace muster::agent
