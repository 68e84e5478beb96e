#pragma once
// Small pieces every package source shares: reading a database file where absence is normal,
// walking lines of a text buffer, file times and sizes, and collecting the problems of one
// database file into the single errors entry it is allowed.
#include "agent/inventory/context.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace muster::agent::inventory::software_detail {

// Reads a package database. Absent (ENOENT/ENOTDIR) returns nullopt silently, since most
// machines have only one package manager; any other failure is reported under "software".
std::optional<std::string> read_database(const context& ctx, error_list& errors,
                                         std::string_view absolute,
                                         std::size_t max_bytes = 256 << 20);

// True when the path (already under the root) exists, following symlinks.
bool path_exists(const std::filesystem::path& path);

// Modification time and size of a file (following symlinks); nullopt when it cannot be read.
std::optional<std::int64_t> mtime_of(const std::filesystem::path& path);
std::optional<std::uint64_t> size_of(const std::filesystem::path& path);

// Walks a buffer line by line without copying. A last line without '\n' is still returned,
// with terminated == false, so parsers can tell a truncated file from a complete one.
class line_reader {
  public:
    explicit line_reader(std::string_view text) : text_(text) {}
    struct line {
        std::string_view text;
        std::size_t offset;
        bool terminated;
    };
    bool next(line& out);

  private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

// The problems found in one database file, reported as ONE errors entry: the first problem
// in full ("corrupt at byte N: what") and how many more followed.
class corruption_report {
  public:
    void add(std::size_t byte, std::string_view what);
    void add_text(std::string reason);  // a problem without a byte position
    bool empty() const { return count_ == 0; }
    // Adds the errors entry (section "software") if there was any problem.
    void flush(error_list& errors, std::string_view absolute) const;

  private:
    std::string first_;
    std::size_t count_ = 0;
};

// Case-insensitive ASCII comparison (RFC822-style field names).
bool iequals(std::string_view a, std::string_view b);

}  // namespace muster::agent::inventory::software_detail
