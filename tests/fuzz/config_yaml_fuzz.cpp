// Fuzz target: the YAML configuration loaders (common/config.cpp and the agent and collector
// readers). The first byte picks the reader: agent for inventory, agent for delivery, or
// collector. A bad file must be a config_error naming the place; any other exception escapes
// and libFuzzer reports it.
#include "agent/config.h"
#include "collector/config.h"
#include "common/config.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        auto doc = muster::load_yaml_string(text, "fuzz.yaml");
        switch (data[0] % 3) {
            case 0:
                (void)muster::agent::read_agent_config(doc, muster::agent::config_use::inventory);
                break;
            case 1:
                (void)muster::agent::read_agent_config(doc, muster::agent::config_use::delivery);
                break;
            default:
                (void)muster::collector::read_collector_config(doc, "/nonexistent/fuzz");
                break;
        }
    } catch (const muster::config_error& e) {
        // The documented refusal; its message must name the file.
        if (std::string_view(e.what()).find("fuzz.yaml") == std::string_view::npos) throw;
    }
    (void)muster::collector::parse_listen_address(text);
    (void)muster::agent::normalize_fingerprint(text);
    return 0;
}
