// Package source "apk" (Alpine): /lib/apk/db/installed.
//
// One entry per package, lines "<letter>:<value>", entries separated by a blank line:
// P name, V version (as `apk info` prints it, "1.2.4-r2"), A arch, I installed size in bytes.
// apk records no install time (t: is the build time) and no vendor, so those stay null.
#include "agent/inventory/read.h"
#include "agent/inventory/software/helpers.h"
#include "agent/inventory/software/sources.h"

namespace muster::agent::inventory {

namespace {

using namespace software_detail;

constexpr std::string_view installed_path = "/lib/apk/db/installed";

struct apk_entry {
    std::size_t offset = 0;
    bool empty = true;
    bool broken = false;
    std::string_view name, version, arch, installed_size;
};

void finish(const apk_entry& e, corruption_report& problems, std::vector<package>& out) {
    if (e.broken) return;
    if (e.name.empty() || e.version.empty()) {
        problems.add(e.offset, "package entry without P: or V:");
        return;
    }
    package p;
    p.name = std::string(e.name);
    p.version = std::string(e.version);
    p.arch = std::string(e.arch);
    p.source = "apk";
    p.size_bytes = parse_u64(e.installed_size);
    out.push_back(std::move(p));
}

}  // namespace

void read_apk_packages(const context& ctx, error_list& errors, std::vector<package>& out) {
    auto text = read_database(ctx, errors, installed_path);
    if (!text) return;
    corruption_report problems;
    line_reader lines(*text);
    line_reader::line line;
    apk_entry entry;
    while (lines.next(line)) {
        if (!line.terminated) {
            problems.add(entry.empty ? line.offset : entry.offset,
                         "truncated package entry (the file ends inside it)");
            entry = {};
            break;
        }
        if (line.text.empty()) {
            if (!entry.empty) finish(entry, problems, out);
            entry = {};
            continue;
        }
        if (entry.empty) {
            entry.empty = false;
            entry.offset = line.offset;
        }
        if (line.text.size() < 2 || line.text[1] != ':') {
            problems.add(line.offset, "line is not a field");
            entry.broken = true;
            continue;
        }
        auto value = line.text.substr(2);
        switch (line.text[0]) {
            case 'P':
                entry.name = value;
                break;
            case 'V':
                entry.version = value;
                break;
            case 'A':
                entry.arch = value;
                break;
            case 'I':
                entry.installed_size = value;
                break;
            default:
                break;
        }
    }
    if (!entry.empty) finish(entry, problems, out);
    problems.flush(errors, installed_path);
}

}  // namespace muster::agent::inventory
