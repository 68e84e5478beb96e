// Fuzz target: the snap and flatpak package sources (agent/inventory/software/snap.cpp,
// flatpak.cpp), through the real "software" collector on a fake root.
//
// The first byte picks the file that gets the rest of the input:
//   0: /snap/fuzz/current/meta/snap.yaml (current links to revision 1, which has a .snap file)
//   1-3: a flatpak application's AppStream file (metainfo/*.metainfo.xml, metainfo/*.appdata.xml,
//        appdata/*.appdata.xml)
//   4-6: the same for a runtime
// The other values fold onto these.
#include "agent/inventory/collectors.h"
#include "tests/fuzz/fuzz_support.h"

#include <boost/json.hpp>

#include <array>
#include <filesystem>
#include <string>

namespace {

using namespace muster;

void make_link(const std::filesystem::path& target, const std::filesystem::path& link) {
    std::error_code ec;
    std::filesystem::create_directories(link.parent_path(), ec);
    std::filesystem::create_directory_symlink(target, link, ec);
    if (ec) {
        std::fprintf(stderr, "cannot link %s: %s\n", link.c_str(), ec.message().c_str());
        std::abort();
    }
}

void snap(const fuzz::fake_root& root, std::string_view bytes) {
    root.write("/snap/fuzz/1/meta/snap.yaml", bytes);
    make_link("1", root.context().path("/snap/fuzz/current"));
    root.write("/var/lib/snapd/snaps/fuzz_1.snap", "hsqs");
}

void flatpak(const fuzz::fake_root& root, unsigned choice, std::string_view bytes) {
    constexpr std::array<const char*, 3> files = {"files/share/metainfo/org.fuzz.App.metainfo.xml",
                                                  "files/share/metainfo/org.fuzz.App.appdata.xml",
                                                  "files/share/appdata/org.fuzz.App.appdata.xml"};
    std::string kind = choice < 3 ? "app" : "runtime";
    std::string deployment =
        "/var/lib/flatpak/" + kind + "/org.fuzz.App/x86_64/stable/0123456789abcdef";
    root.write(deployment + "/deploy", "");
    root.write(deployment + "/" + files[choice % 3], bytes);
    make_link("0123456789abcdef", root.context().path("/var/lib/flatpak/" + kind +
                                                      "/org.fuzz.App/x86_64/stable/active"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    fuzz::fake_root root;
    unsigned choice = data[0] % 7;
    auto bytes = fuzz::as_text(data + 1, size - 1);
    if (choice == 0)
        snap(root, bytes);
    else
        flatpak(root, choice - 1, bytes);
    agent::inventory::error_list errors;
    auto section = agent::inventory::collect_software(root.context(), errors);
    (void)boost::json::serialize(section);
    return 0;
}
