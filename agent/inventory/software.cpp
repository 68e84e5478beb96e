// Section "software": every installed package from every package manager found, one array.
#include "agent/inventory/collectors.h"
#include "agent/inventory/software/sources.h"

#include <ctime>

namespace muster::agent::inventory {

// The package sources, in the order their packages appear.
static constexpr package_source_fn package_sources[] = {
    read_deb_packages,    read_rpm_packages,  read_apk_packages,
    read_pacman_packages, read_snap_packages, read_flatpak_packages,
};

std::string iso8601_utc(std::int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

boost::json::value collect_software(const context& ctx, error_list& errors) {
    std::vector<package> packages;
    for (auto source : package_sources) source(ctx, errors, packages);

    boost::json::array out;
    out.reserve(packages.size());
    for (auto& p : packages) {
        boost::json::object entry;
        entry["name"] = p.name;
        entry["version"] = p.version;
        entry["arch"] = p.arch;
        entry["source"] = p.source;
        if (p.vendor) entry["vendor"] = *p.vendor;
        if (p.installed_at) entry["installed_at"] = *p.installed_at;
        if (p.size_bytes) entry["size_bytes"] = *p.size_bytes;
        out.push_back(std::move(entry));
    }
    return out;
}

}  // namespace muster::agent::inventory
