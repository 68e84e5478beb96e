#include "agent/wire/identity.h"

namespace muster::agent::wire {

loaded_key load_or_create_key(const std::filesystem::path& key_file) {
    std::error_code ec;
    if (std::filesystem::exists(key_file, ec))
        return {ed25519_key::load_private_pem(key_file), false};
    auto key = ed25519_key::generate();
    key.save_private_pem(key_file);
    return {std::move(key), true};
}

}  // namespace muster::agent::wire
