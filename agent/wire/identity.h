#pragma once
// The agent's identity: an Ed25519 key pair generated on first start and kept in the state
// directory (agent.key, PKCS#8 PEM, mode 0600). Throws crypto_error when an existing key
// file cannot be read: the agent never silently replaces its identity.
#include "common/crypto.h"

#include <filesystem>

namespace muster::agent::wire {

struct loaded_key {
    ed25519_key key;
    bool created;  // generated now: the agent has never reported with this identity
};

loaded_key load_or_create_key(const std::filesystem::path& key_file);

}  // namespace muster::agent::wire
