// Package source "flatpak": the system installation, /var/lib/flatpak.
//
// Applications and runtimes are deployed at /var/lib/flatpak/{app,runtime}/<id>/<arch>/
// <branch>/active (a link to the deployed commit). name is the id, arch the arch directory.
// version is the newest <release version="..."> of the AppStream metadata shipped in the
// deployment (what `flatpak list` shows), or the branch when there is none. installed_at is
// the mtime of the deployment's "deploy" file, written when flatpak deploys it. Per-user
// installations (~/.local/share/flatpak) are not read: the inventory describes the machine.
#include "agent/inventory/software/helpers.h"
#include "agent/inventory/software/sources.h"
#include "common/file.h"

#include <algorithm>
#include <filesystem>

namespace muster::agent::inventory {

namespace {

using namespace software_detail;
namespace fs = std::filesystem;

constexpr std::string_view installation = "/var/lib/flatpak";

std::vector<std::string> subdirectories(const fs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
        // "current" links to the default arch/branch: a second name for a deployment.
        if (it->is_symlink(ec) || !it->is_directory(ec)) continue;
        out.push_back(it->path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// The version attribute of the first <release> element: AppStream lists releases newest
// first.
std::optional<std::string> first_release_version(std::string_view xml) {
    auto release = xml.find("<release ");
    if (release == std::string_view::npos) return std::nullopt;
    auto tag_end = xml.find('>', release);
    auto tag =
        xml.substr(release, tag_end == std::string_view::npos ? xml.npos : tag_end - release);
    for (std::string_view quote : {"\"", "'"}) {
        auto attribute = std::string(" version=") + std::string(quote);
        auto at = tag.find(attribute);
        if (at == std::string_view::npos) continue;
        auto begin = at + attribute.size();
        auto end = tag.find(quote, begin);
        if (end == std::string_view::npos) return std::nullopt;
        return std::string(tag.substr(begin, end - begin));
    }
    return std::nullopt;
}

std::optional<std::string> appstream_version(const fs::path& active, const std::string& id) {
    for (auto relative : {"files/share/metainfo/" + id + ".metainfo.xml",
                          "files/share/metainfo/" + id + ".appdata.xml",
                          "files/share/appdata/" + id + ".appdata.xml"}) {
        auto xml = read_file(active / relative, 4 << 20);
        if (xml) return first_release_version(*xml);
    }
    return std::nullopt;
}

void read_kind(const context& ctx, std::string_view kind, std::vector<package>& out) {
    auto base = ctx.path(std::string(installation) + "/" + std::string(kind));
    for (const auto& id : subdirectories(base)) {
        for (const auto& arch : subdirectories(base / id)) {
            for (const auto& branch : subdirectories(base / id / arch)) {
                auto active = base / id / arch / branch / "active";
                if (!path_exists(active)) continue;  // not deployed
                package p;
                p.name = id;
                p.version = appstream_version(active, id).value_or(branch);
                p.arch = arch;
                p.source = "flatpak";
                if (auto t = mtime_of(active / "deploy")) p.installed_at = iso8601_utc(*t);
                out.push_back(std::move(p));
            }
        }
    }
}

}  // namespace

void read_flatpak_packages(const context& ctx, error_list&, std::vector<package>& out) {
    read_kind(ctx, "app", out);
    read_kind(ctx, "runtime", out);
}

}  // namespace muster::agent::inventory
