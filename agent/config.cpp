#include "agent/config.h"

#include <algorithm>
#include <set>

namespace muster::agent {
namespace {

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

}  // namespace

agent_config read_agent_config(const yaml_document& doc) {
    agent_config config;
    read_config(doc, [&](config_map& root) {
        config.tags = read_tags(root);
        read_log(root.get_map("log"), config.log);
    });
    config.log.name = "agent";
    return config;
}

agent_config load_agent_config(const std::filesystem::path& path) {
    return read_agent_config(load_yaml_file(path));
}

}  // namespace muster::agent
