#pragma once
// Reading helpers every collector uses, so that "could not read X" is reported one way.
#include "agent/inventory/context.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace muster::agent::inventory {

// Reads a file under the root. On failure adds {section, path, reason} to errors and returns
// nullopt. Use for files the section needs.
std::optional<std::string> read_required(const context& ctx, error_list& errors,
                                         std::string_view section, std::string_view absolute,
                                         std::size_t max_bytes = 64 << 20);

// Reads a file under the root; absent or unreadable is not an error (optional data such as
// one sysfs attribute among many). Returns the trimmed content, nullopt when unreadable or
// empty.
std::optional<std::string> read_optional(const context& ctx, std::string_view absolute);

// Same, but a permission denial is reported in errors (fields an unprivileged agent cannot
// read must be listed), while absence stays silent.
std::optional<std::string> read_attribute(const context& ctx, error_list& errors,
                                          std::string_view section, std::string_view absolute);

// Parses a decimal unsigned integer; nullopt on anything else.
std::optional<std::uint64_t> parse_u64(std::string_view text);

// JSON helpers: a value or null.
inline boost::json::value json_or_null(const std::optional<std::string>& v) {
    return v ? boost::json::value(*v) : boost::json::value(nullptr);
}
inline boost::json::value json_or_null(const std::optional<std::uint64_t>& v) {
    return v ? boost::json::value(*v) : boost::json::value(nullptr);
}

}  // namespace muster::agent::inventory
