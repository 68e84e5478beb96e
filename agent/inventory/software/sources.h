#pragma once
// Package sources of the "software" section, one file per package manager in this folder.
// Each appends the packages it finds; what it cannot read goes to errors under the section
// "software". The list of sources is in software.cpp.
#include "agent/inventory/context.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace muster::agent::inventory {

struct package {
    std::string name;
    std::string version;  // exactly as the package manager prints it
    std::string arch;
    std::string source;   // deb, rpm, apk, pacman, snap, flatpak
    std::optional<std::string> vendor;
    std::optional<std::string> installed_at;  // ISO 8601 UTC, "2024-05-01T12:00:00Z"
    std::optional<std::uint64_t> size_bytes;
};

using package_source_fn = void (*)(const context& ctx, error_list& errors,
                                   std::vector<package>& out);

void read_deb_packages(const context& ctx, error_list& errors, std::vector<package>& out);
void read_rpm_packages(const context& ctx, error_list& errors, std::vector<package>& out);
void read_apk_packages(const context& ctx, error_list& errors, std::vector<package>& out);
void read_pacman_packages(const context& ctx, error_list& errors, std::vector<package>& out);
void read_snap_packages(const context& ctx, error_list& errors, std::vector<package>& out);
void read_flatpak_packages(const context& ctx, error_list& errors, std::vector<package>& out);

// ISO 8601 UTC text for a Unix time.
std::string iso8601_utc(std::int64_t unix_seconds);

}  // namespace muster::agent::inventory
