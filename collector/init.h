#pragma once
// `muster-collector init`: everything a working installation needs, in one directory.
//
// Error policy: throws init_error for a refusal the user can fix (an existing installation,
// a bad listen address) and crypto_error / std::filesystem::filesystem_error for failures.
#include "collector/config.h"

#include <filesystem>
#include <stdexcept>
#include <string>

namespace muster::collector {

class init_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct init_result {
    std::filesystem::path dir;  // absolute
    std::string url;            // https://HOST:PORT the agent and musterctl use
    std::string enrollment_token;
    std::string admin_token;
    std::vector<std::string> server_names;  // subjectAltName entries, as "DNS:x" / "IP:y"
};

// Creates dir (mode 0700, parents as needed) holding ca.pem, ca.key, server.pem, server.key,
// collector.yaml, agent.yaml and ctl.yaml, all mode 0600. Refuses when dir already holds a
// collector.yaml.
init_result initialize_installation(const std::filesystem::path& dir, const listen_address& listen);

// The human-readable summary `init` prints: what was made and how to start.
std::string describe(const init_result& result);

}  // namespace muster::collector
