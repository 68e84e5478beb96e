// Package source "snap": the mounted snaps, not snapd's state.json (root-only and large).
//
// Every installed snap is mounted at /snap/<name>/<revision> (/var/lib/snapd/snap on
// distributions without /snap), with /snap/<name>/current linking to the active revision.
// Its meta/snap.yaml gives name, version (what `snap list` prints) and architectures
// (absent means "all"; several are joined with ","). The snap file itself,
// /var/lib/snapd/snaps/<name>_<revision>.snap, gives the install time (its mtime) and size.
// Publishers are only in snapd's state, so vendor stays null.
#include "agent/inventory/software/helpers.h"
#include "agent/inventory/software/sources.h"
#include "common/file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>

namespace muster::agent::inventory {

namespace {

using namespace software_detail;
namespace fs = std::filesystem;

constexpr std::string_view mount_roots[] = {"/snap", "/var/lib/snapd/snap"};

std::string architectures(const YAML::Node& list) {
    if (!list || !list.IsSequence() || list.size() == 0) return "all";
    std::string out;
    for (const auto& arch : list) {
        if (!out.empty()) out += ",";
        out += arch.as<std::string>();
    }
    return out;
}

void read_snap(const context& ctx, error_list& errors, const std::string& mount_root,
               const std::string& name, std::vector<package>& out) {
    std::error_code ec;
    auto revision =
        fs::read_symlink(ctx.path(mount_root + "/" + name + "/current"), ec).filename().string();
    if (ec) return;  // not a snap (e.g. /snap/bin)
    auto yaml_path = mount_root + "/" + name + "/current/meta/snap.yaml";
    auto text = read_file(ctx.path(yaml_path), 1 << 20);
    if (!text) {
        errors.add("software", yaml_path, text.error().message());
        return;
    }
    package p;
    try {
        auto meta = YAML::Load(*text);
        p.name = meta["name"] ? meta["name"].as<std::string>() : name;
        p.version = meta["version"] ? meta["version"].as<std::string>() : "";
        p.arch = architectures(meta["architectures"]);
    } catch (const YAML::Exception& e) {
        errors.add("software", yaml_path, "corrupt: " + e.msg);
        return;
    }
    p.source = "snap";
    auto file = ctx.path("/var/lib/snapd/snaps/" + name + "_" + revision + ".snap");
    if (auto t = mtime_of(file)) p.installed_at = iso8601_utc(*t);
    p.size_bytes = size_of(file);
    out.push_back(std::move(p));
}

}  // namespace

void read_snap_packages(const context& ctx, error_list& errors, std::vector<package>& out) {
    for (std::string_view root_name : mount_roots) {
        std::string mount_root(root_name);
        std::error_code ec;
        fs::directory_iterator it(ctx.path(mount_root), ec);
        if (ec) continue;  // no snaps here
        std::vector<std::string> names;
        for (; it != fs::directory_iterator(); it.increment(ec))
            names.push_back(it->path().filename().string());
        std::sort(names.begin(), names.end());
        for (const auto& name : names) read_snap(ctx, errors, mount_root, name, out);
        return;  // where /snap exists it is the one snapd uses
    }
}

}  // namespace muster::agent::inventory
