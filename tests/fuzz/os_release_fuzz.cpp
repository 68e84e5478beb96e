// Fuzz target: os-release(5) (agent/inventory/os_release.cpp), its parser and the shell-word
// unquoting on the whole input, then the "os" collector reading it as /etc/os-release.
#include "agent/inventory/collectors.h"
#include "agent/inventory/os_release.h"
#include "tests/fuzz/fuzz_support.h"

#include <boost/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace muster;
    auto text = fuzz::as_text(data, size);
    (void)agent::inventory::parse_os_release(text);
    (void)agent::inventory::unquote_shell_word(text);
    fuzz::fake_root root;
    root.write("/etc/os-release", text);
    agent::inventory::error_list errors;
    (void)boost::json::serialize(agent::inventory::collect_os(root.context(), errors));
    return 0;
}
