// Section "os": the distribution (os-release) and the kernel.
//
// The kernel fields come from uname() on the live system. Under a fixture root they come from
// the files that carry the same strings: /proc/sys/kernel/{ostype,osrelease,version}, and
// /proc/sys/kernel/arch for the architecture (present since Linux 6.1; null where absent).
#include "agent/inventory/collectors.h"
#include "agent/inventory/os_release.h"
#include "agent/inventory/read.h"

#include <sys/utsname.h>

namespace muster::agent::inventory {

namespace {

constexpr std::string_view section = "os";

struct kernel_facts {
    std::optional<std::string> name, release, version, arch;
};

kernel_facts kernel_from_uname() {
    struct utsname u {};
    if (::uname(&u) != 0) return {};
    return {u.sysname, u.release, u.version, u.machine};
}

kernel_facts kernel_from_files(const context& ctx, error_list& errors) {
    return {read_attribute(ctx, errors, section, "/proc/sys/kernel/ostype"),
            read_attribute(ctx, errors, section, "/proc/sys/kernel/osrelease"),
            read_attribute(ctx, errors, section, "/proc/sys/kernel/version"),
            read_attribute(ctx, errors, section, "/proc/sys/kernel/arch")};
}

// /etc/os-release, else /usr/lib/os-release (the file /etc/os-release usually links to).
std::map<std::string, std::string> os_release(const context& ctx, error_list& errors) {
    if (auto text = read_optional(ctx, "/etc/os-release")) return parse_os_release(*text);
    if (auto text = read_optional(ctx, "/usr/lib/os-release")) return parse_os_release(*text);
    errors.add(section, "/etc/os-release", "absent");
    return {};
}

boost::json::value field(const std::map<std::string, std::string>& values, const char* key) {
    auto it = values.find(key);
    if (it == values.end() || it->second.empty()) return nullptr;
    return boost::json::value(it->second);
}

}  // namespace

boost::json::value collect_os(const context& ctx, error_list& errors) {
    auto release = os_release(ctx, errors);
    auto kernel = ctx.live() ? kernel_from_uname() : kernel_from_files(ctx, errors);
    return boost::json::object{
        {"id", field(release, "ID")},
        {"id_like", field(release, "ID_LIKE")},
        {"name", field(release, "NAME")},
        {"version_id", field(release, "VERSION_ID")},
        {"pretty_name", field(release, "PRETTY_NAME")},
        {"kernel_name", json_or_null(kernel.name)},
        {"kernel_release", json_or_null(kernel.release)},
        {"kernel_version", json_or_null(kernel.version)},
        {"arch", json_or_null(kernel.arch)},
    };
}

}  // namespace muster::agent::inventory
