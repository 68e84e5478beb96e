// Fuzz target: the SQLite rpm database (agent/inventory/software/rpm.cpp), header blobs included.
// The bytes become /var/lib/rpm/rpmdb.sqlite of an otherwise empty root, read by the real
// "software" collector (every package source runs; only this one finds a file) and its result
// serialized.
#include "agent/inventory/collectors.h"
#include "tests/fuzz/fuzz_support.h"

#include <boost/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace muster;
    fuzz::fake_root root;
    root.write("/var/lib/rpm/rpmdb.sqlite", fuzz::as_text(data, size));
    agent::inventory::error_list errors;
    auto section = agent::inventory::collect_software(root.context(), errors);
    (void)boost::json::serialize(section);
    return 0;
}
