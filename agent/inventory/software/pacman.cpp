// Package source "pacman" (Arch): /var/lib/pacman/local/<name>-<version>/desc.
//
// Each desc file is a list of "%FIELD%" lines, each followed by its value lines and a blank
// line. VERSION is as `pacman -Q` prints it ("1:2.3-4"), INSTALLDATE is Unix time, SIZE is the
// installed size in bytes. The packager is a person, not a vendor, so vendor stays null.
// Every directory of local/ is one package; a desc that cannot be read or parsed is one
// errors entry for that file.
#include "agent/inventory/read.h"
#include "agent/inventory/software/helpers.h"
#include "agent/inventory/software/sources.h"
#include "common/file.h"

#include <algorithm>
#include <filesystem>

namespace muster::agent::inventory {

namespace {

using namespace software_detail;
namespace fs = std::filesystem;

constexpr std::string_view local_path = "/var/lib/pacman/local";

struct desc_fields {
    std::string_view name, version, arch, install_date, size;
};

// Parses one desc file; nullopt and a problem when it is not a desc file.
std::optional<desc_fields> parse_desc(std::string_view text, corruption_report& problems) {
    desc_fields d;
    line_reader lines(text);
    line_reader::line line;
    std::string_view* current = nullptr;
    bool first_value = false;
    while (lines.next(line)) {
        auto t = line.text;
        if (t.empty()) {
            current = nullptr;
        } else if (t.size() > 2 && t.front() == '%' && t.back() == '%') {
            current = nullptr;
            first_value = true;
            if (t == "%NAME%") current = &d.name;
            if (t == "%VERSION%") current = &d.version;
            if (t == "%ARCH%") current = &d.arch;
            if (t == "%INSTALLDATE%") current = &d.install_date;
            if (t == "%SIZE%") current = &d.size;
        } else if (current && first_value) {
            *current = trim(t);
            first_value = false;
        }
    }
    if (d.name.empty() || d.version.empty()) {
        problems.add(text.size(), "desc without %NAME% or %VERSION%");
        return std::nullopt;
    }
    return d;
}

void read_desc(const context& ctx, error_list& errors, const std::string& absolute,
               std::vector<package>& out) {
    auto text = read_file(ctx.path(absolute), 16 << 20);
    if (!text) {
        errors.add("software", absolute, text.error().message());
        return;
    }
    corruption_report problems;
    auto d = parse_desc(*text, problems);
    problems.flush(errors, absolute);
    if (!d) return;
    package p;
    p.name = std::string(d->name);
    p.version = std::string(d->version);
    p.arch = std::string(d->arch);
    p.source = "pacman";
    if (auto t = parse_u64(d->install_date)) p.installed_at = iso8601_utc(std::int64_t(*t));
    p.size_bytes = parse_u64(d->size);
    out.push_back(std::move(p));
}

}  // namespace

void read_pacman_packages(const context& ctx, error_list& errors, std::vector<package>& out) {
    std::error_code ec;
    fs::directory_iterator it(ctx.path(local_path), ec);
    if (ec) {
        if (ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
            errors.add("software", local_path, ec.message());
        return;
    }
    std::vector<std::string> packages;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (it->is_directory(ec)) packages.push_back(it->path().filename().string());
    }
    if (ec) errors.add("software", local_path, ec.message());
    std::sort(packages.begin(), packages.end());
    for (const auto& dir : packages)
        read_desc(ctx, errors, std::string(local_path) + "/" + dir + "/desc", out);
}

}  // namespace muster::agent::inventory
