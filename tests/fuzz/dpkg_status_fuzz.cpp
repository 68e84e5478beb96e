// Fuzz target: the dpkg status database (agent/inventory/software/deb.cpp).
// The bytes become /var/lib/dpkg/status of an otherwise empty root, read by the real "software"
// collector (every package source runs; only this one finds a file) and its result serialized.
#include "agent/inventory/collectors.h"
#include "tests/fuzz/fuzz_support.h"

#include <boost/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace muster;
    fuzz::fake_root root;
    root.write("/var/lib/dpkg/status", fuzz::as_text(data, size));
    agent::inventory::error_list errors;
    auto section = agent::inventory::collect_software(root.context(), errors);
    (void)boost::json::serialize(section);
    return 0;
}
