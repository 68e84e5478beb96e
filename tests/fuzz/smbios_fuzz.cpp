// Fuzz target: the raw SMBIOS table (agent/inventory/smbios.cpp). Every accessor is tried at
// every offset of every structure, a little past the end included, then the "hardware"
// collector reads the bytes as /sys/firmware/dmi/tables/DMI.
#include "agent/inventory/collectors.h"
#include "agent/inventory/smbios.h"
#include "tests/fuzz/fuzz_support.h"

#include <boost/json.hpp>

namespace {

void try_every_accessor(const muster::agent::inventory::smbios_structure& s) {
    for (std::size_t offset = 0; offset < s.formatted.size() + 8; ++offset) {
        (void)s.byte_at(offset);
        (void)s.word_at(offset);
        (void)s.dword_at(offset);
        (void)s.string_at(offset);
    }
    (void)muster::agent::inventory::decode_memory_device(s);
    (void)muster::agent::inventory::system_uuid(s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace muster;
    auto bytes = fuzz::as_text(data, size);
    auto table = agent::inventory::parse_smbios(bytes);
    for (const auto& s : table.structures) try_every_accessor(s);
    if (size > 0) {
        (void)agent::inventory::memory_type_name(data[0]);
        (void)agent::inventory::chassis_type_name(data[0]);
    }
    fuzz::fake_root root;
    root.write("/sys/firmware/dmi/tables/DMI", bytes);
    agent::inventory::error_list errors;
    (void)boost::json::serialize(agent::inventory::collect_hardware(root.context(), errors));
    return 0;
}
