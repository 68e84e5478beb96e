// Fuzz target: one rpm header blob as the rpm database stores it
// (agent/inventory/software/rpm_header.cpp), with the version text built from it.
#include "agent/inventory/software/rpm_header.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace muster::agent::inventory;
    auto parsed = parse_rpm_header({data, size});
    if (auto* header = std::get_if<rpm_header>(&parsed)) (void)rpm_display_version(*header);
    return 0;
}
