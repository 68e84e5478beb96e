#pragma once
// The agent's configuration file (/etc/muster/agent.yaml; commented example in
// config/agent.yaml). Only what the agent uses today is accepted: a key that would be read
// and then ignored is an error, like any unknown key.
#include "common/config.h"
#include "common/logging.h"

#include <filesystem>
#include <string>
#include <vector>

namespace muster::agent {

inline constexpr std::size_t max_tags = 64;
inline constexpr std::size_t max_tag_length = 64;

struct agent_config {
    // Free labels sent with the inventory ("prod", "dc:paris"): [A-Za-z0-9_.:-], at most
    // max_tag_length characters each, at most max_tags of them, no duplicates.
    std::vector<std::string> tags;
    logging_options log;  // only level and format come from the file
};

// Throws config_error naming file, line and column for any problem.
agent_config load_agent_config(const std::filesystem::path& path);
agent_config read_agent_config(const yaml_document& doc);

}  // namespace muster::agent
