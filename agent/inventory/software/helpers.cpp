#include "agent/inventory/software/helpers.h"

#include "common/file.h"

#include <sys/stat.h>

#include <cerrno>

namespace muster::agent::inventory::software_detail {

std::optional<std::string> read_database(const context& ctx, error_list& errors,
                                         std::string_view absolute, std::size_t max_bytes) {
    auto content = read_file(ctx.path(absolute), max_bytes);
    if (content) return std::move(*content);
    int code = content.error().value();
    if (code != ENOENT && code != ENOTDIR)
        errors.add("software", absolute, content.error().message());
    return std::nullopt;
}

namespace {

std::optional<struct stat> stat_of(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return st;
}

}  // namespace

bool path_exists(const std::filesystem::path& path) {
    return stat_of(path).has_value();
}

std::optional<std::int64_t> mtime_of(const std::filesystem::path& path) {
    auto st = stat_of(path);
    if (!st) return std::nullopt;
    return static_cast<std::int64_t>(st->st_mtim.tv_sec);
}

std::optional<std::uint64_t> size_of(const std::filesystem::path& path) {
    auto st = stat_of(path);
    if (!st || !S_ISREG(st->st_mode)) return std::nullopt;
    return static_cast<std::uint64_t>(st->st_size);
}

bool line_reader::next(line& out) {
    if (pos_ >= text_.size()) return false;
    auto end = text_.find('\n', pos_);
    out.offset = pos_;
    if (end == std::string_view::npos) {
        out.text = text_.substr(pos_);
        out.terminated = false;
        pos_ = text_.size();
    } else {
        out.text = text_.substr(pos_, end - pos_);
        out.terminated = true;
        pos_ = end + 1;
    }
    return true;
}

void corruption_report::add(std::size_t byte, std::string_view what) {
    if (count_++ == 0)
        first_ = "corrupt at byte " + std::to_string(byte) + ": " + std::string(what);
}

void corruption_report::add_text(std::string reason) {
    if (count_++ == 0) first_ = std::move(reason);
}

void corruption_report::flush(error_list& errors, std::string_view absolute) const {
    if (count_ == 0) return;
    std::string reason = first_;
    if (count_ > 1) reason += " (and " + std::to_string(count_ - 1) + " more problems)";
    errors.add("software", absolute, reason);
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

}  // namespace muster::agent::inventory::software_detail
