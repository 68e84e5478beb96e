#pragma once
// Where musterctl connects, with what token, trusting which CA.
//
// Each setting comes from the first place that has it: the file given with --config, then
// the environment (MUSTER_URL, MUSTER_TOKEN, MUSTER_CA_FILE), then ~/.config/muster/ctl.yaml
// (the ctl.yaml `muster-collector init` writes). A file is validated as every muster config
// (unknown keys are errors, messages name file:line:column).
//
// Error policy: ctl_error with exit_usage for anything missing or invalid.
#include <filesystem>
#include <optional>
#include <string>

namespace muster::ctl {

struct connection_settings {
    std::string url;      // https://HOST[:PORT], no trailing slash
    std::string token;    // never printed
    std::string ca_file;  // "" = the system's trust store
};

connection_settings load_connection_settings(const std::optional<std::filesystem::path>& config);

}  // namespace muster::ctl
