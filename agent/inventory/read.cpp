#include "agent/inventory/read.h"

#include "common/file.h"

#include <cerrno>
#include <charconv>

namespace muster::agent::inventory {

std::optional<std::string> read_required(const context& ctx, error_list& errors,
                                         std::string_view section, std::string_view absolute,
                                         std::size_t max_bytes) {
    auto content = read_file(ctx.path(absolute), max_bytes);
    if (!content) {
        errors.add(section, absolute, content.error().message());
        return std::nullopt;
    }
    return std::move(*content);
}

std::optional<std::string> read_optional(const context& ctx, std::string_view absolute) {
    auto content = read_file(ctx.path(absolute), 1 << 20);
    if (!content) return std::nullopt;
    auto trimmed = trim(*content);
    if (trimmed.empty()) return std::nullopt;
    return std::string(trimmed);
}

std::optional<std::string> read_attribute(const context& ctx, error_list& errors,
                                          std::string_view section, std::string_view absolute) {
    auto content = read_file(ctx.path(absolute), 1 << 20);
    if (!content) {
        if (content.error().value() == EACCES || content.error().value() == EPERM)
            errors.add(section, absolute, content.error().message());
        return std::nullopt;
    }
    auto trimmed = trim(*content);
    if (trimmed.empty()) return std::nullopt;
    return std::string(trimmed);
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
    text = trim(text);
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

}  // namespace muster::agent::inventory
