// Fuzz target: the D-Bus message parser of the services section
// (agent/inventory/services_dbus.cpp): framing, header fields and both reply bodies it reads.
#include "agent/inventory/services_dbus.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace muster::agent::inventory::dbus;
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    (void)message_size(bytes);
    auto parsed = parse_message(bytes);
    if (!parsed) return 0;
    auto units = parse_list_units(*parsed);
    (void)parse_string_array(*parsed);
    (void)describe_error(*parsed);
    if (units && !units->empty()) (void)merged_states("loaded", &units->front());
    return 0;
}
