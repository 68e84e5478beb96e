#include "agent/config.h"

#include "agent/checks/registry.h"

#include <algorithm>
#include <set>

namespace muster::agent {
namespace {

using namespace std::chrono_literals;

bool tag_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ':' || c == '-';
}

std::optional<std::string> tag_problem(std::string_view tag) {
    if (tag.empty()) return "a tag cannot be empty";
    if (tag.size() > max_tag_length) {
        return "a tag has at most " + std::to_string(max_tag_length) + " characters, got " +
               std::to_string(tag.size());
    }
    if (!std::all_of(tag.begin(), tag.end(), tag_char)) {
        return "a tag may contain only letters, digits and _ . : - (got '" + std::string(tag) +
               "')";
    }
    return std::nullopt;
}

std::vector<std::string> read_tags(config_map& root) {
    std::set<std::string, std::less<>> seen;
    auto check = [&](std::string_view tag) -> std::optional<std::string> {
        if (auto problem = tag_problem(tag)) return problem;
        if (!seen.emplace(tag).second) return "duplicate tag '" + std::string(tag) + "'";
        return std::nullopt;
    };
    return root.get_string_list("tags", {}, max_tags, check);
}

void read_log(config_map log, logging_options& options) {
    options.level = log.get_enum("level", log_level_names, "info");
    auto format = log.get_enum("format", {"text", "json"}, "text");
    options.format = *parse_log_format(format);
}

std::optional<std::string> absolute_path_problem(std::string_view text) {
    if (text.empty() || text.front() != '/') return "must be an absolute path";
    return std::nullopt;
}

// A required key for delivery; optional (empty when absent) for the inventory.
std::string get_string(config_map& map, std::string_view key, bool required,
                       const string_check& check = {}) {
    if (required) return map.get_string(key, check);
    return map.get_string(key, "", check);
}

std::optional<collector_config> read_collector(config_map& root, config_use use) {
    bool required = use == config_use::delivery;
    config_map map = root.get_map("collector");
    if (!required && !map.present()) return std::nullopt;
    collector_config c;
    c.url_text = get_string(map, "url", required, [&](std::string_view text) {
        std::string problem;
        auto url = wire::parse_collector_url(text, &problem);
        if (!url) return std::optional<std::string>(problem);
        c.url = *url;
        return std::optional<std::string>();
    });
    if (map.has("ca_file")) c.ca_file = map.get_string("ca_file", absolute_path_problem);
    if (map.has("ca_fingerprint")) {
        c.ca_fingerprint = map.get_string("ca_fingerprint", [&](std::string_view text) {
            if (normalize_fingerprint(text)) return std::optional<std::string>();
            return std::optional<std::string>(
                "expected the SHA-256 of the collector certificate: 64 hex digits, colons "
                "allowed");
        });
        c.ca_fingerprint = *normalize_fingerprint(c.ca_fingerprint);
    }
    if (!c.ca_file.empty() && !c.ca_fingerprint.empty())
        map.fail("ca_fingerprint", "set either ca_file or ca_fingerprint, not both");
    if (required && c.ca_file.empty() && c.ca_fingerprint.empty())
        root.fail("collector",
                  "one of ca_file or ca_fingerprint is required to trust the collector");
    c.enrollment_token = map.get_string("enrollment_token", "");
    return c;
}

void read_schedule(config_map map, agent_config& config) {
    config.inventory_interval = map.get_duration("interval", 1h, 1s, 24h * 7);
    config.inventory_splay = map.get_duration("splay", 5min, 0s, 24h);
}

}  // namespace

std::optional<std::string> normalize_fingerprint(std::string_view text) {
    std::string hex;
    for (char c : text) {
        if (c == ':') continue;
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
        hex += c;
    }
    if (hex.size() != 64) return std::nullopt;
    return hex;
}

agent_config read_agent_config(const yaml_document& doc, config_use use) {
    agent_config config;
    read_config(doc, [&](config_map& root) {
        config.tags = read_tags(root);
        read_log(root.get_map("log"), config.log);
        config.collector = read_collector(root, use);
        config.state_dir =
            get_string(root, "state_dir", use == config_use::delivery, absolute_path_problem);
        read_schedule(root.get_map("inventory"), config);
        config.spool_max_bytes =
            root.get_map("spool").get_size("max_bytes", 64ull << 20, 64ull << 10, 1ull << 40);
        config.checks = checks::read_checks(root);
    });
    config.log.name = "agent";
    return config;
}

agent_config load_agent_config(const std::filesystem::path& path, config_use use) {
    return read_agent_config(load_yaml_file(path), use);
}

}  // namespace muster::agent
