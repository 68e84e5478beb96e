// Section "memory": totals from /proc/meminfo ("Name:   123 kB" lines, in KiB).
#include "agent/inventory/collectors.h"
#include "agent/inventory/read.h"
#include "agent/inventory/text.h"

#include <map>

namespace muster::agent::inventory {

namespace {

constexpr std::string_view section = "memory";
constexpr std::string_view meminfo_path = "/proc/meminfo";

// Each "Name: N kB" line in bytes; lines in another unit or malformed are left out.
std::map<std::string, std::uint64_t, std::less<>> parse_meminfo(std::string_view text) {
    std::map<std::string, std::uint64_t, std::less<>> values;
    for (auto line : split_lines(text)) {
        auto kv = split_key_value(line);
        if (!kv) continue;
        auto words = split_words(kv->value);
        if (words.size() != 2 || words[1] != "kB") continue;
        auto kib = parse_u64(words[0]);
        if (kib && *kib <= UINT64_MAX / 1024) values.emplace(std::string(kv->key), *kib * 1024);
    }
    return values;
}

boost::json::object to_json(const std::map<std::string, std::uint64_t, std::less<>>& values) {
    auto field = [&](std::string_view key) -> boost::json::value {
        auto it = values.find(key);
        return it == values.end() ? boost::json::value(nullptr) : boost::json::value(it->second);
    };
    return {
        {"total_bytes", field("MemTotal")},
        {"available_bytes", field("MemAvailable")},
        {"swap_total_bytes", field("SwapTotal")},
        {"swap_free_bytes", field("SwapFree")},
    };
}

}  // namespace

boost::json::value collect_memory(const context& ctx, error_list& errors) {
    auto text = read_required(ctx, errors, section, meminfo_path, 1 << 20);
    if (!text) return to_json({});
    if (auto at = first_binary_byte(*text)) {
        errors.add(section, meminfo_path, "corrupt at byte " + std::to_string(*at) + ": not text");
        return to_json({});
    }
    auto values = parse_meminfo(*text);
    if (!values.contains("MemTotal"))
        errors.add(section, meminfo_path, "corrupt at byte 0: no MemTotal line");
    return to_json(values);
}

}  // namespace muster::agent::inventory
