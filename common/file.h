#pragma once
// Small file helpers shared by agent and collector.
// Error policy: expected failures (absent, permission denied, too large) are returned as
// values (boost::system::result); nothing here throws for an I/O error.
#include <boost/system/result.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace muster {

// Reads a whole file. Files larger than max_bytes are an error (errc::file_too_large), so a
// hostile or runaway file cannot exhaust memory. /proc and /sys files report size 0 and are
// read until EOF.
boost::system::result<std::string> read_file(const std::filesystem::path& path,
                                             std::size_t max_bytes = 64 << 20);

// Writes a file atomically: a temporary file in the same directory, fsync, rename, fsync of
// the directory. The file is created with the given mode (0600 by default) before any byte
// is written, so a secret is never readable by others even for an instant.
boost::system::result<void> write_file_atomic(const std::filesystem::path& path,
                                              std::string_view content, unsigned mode = 0600);

// Trims ASCII whitespace (including NUL padding common in sysfs/SMBIOS) from both ends.
std::string_view trim(std::string_view s);

}  // namespace muster
