#pragma once
// The key tables of docs/configuration.md, read back for the tests that hold the reference to
// what the loaders really read (common/config.h, config_key_recorder).
//
// The format, stated at the top of docs/configuration.md: a level-2 heading "## agent.yaml" or
// "## collector.yaml" opens the reference of that file, any other level-2 heading closes it;
// inside, every table row whose first cell is a path in backticks documents that key
// ("| `collector.url` | ..."). A key may have several rows (one per check type).
//
// Error policy: test helpers; a malformed row throws std::runtime_error naming the line.
#include <cstddef>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

namespace muster::test {

// The keys documented for file ("agent.yaml", "collector.yaml") in markdown.
inline std::set<std::string, std::less<>> documented_keys(std::string_view markdown,
                                                          std::string_view file) {
    std::set<std::string, std::less<>> keys;
    bool inside = false;
    std::size_t number = 0;
    while (!markdown.empty()) {
        auto end = markdown.find('\n');
        std::string_view line = markdown.substr(0, end);
        markdown.remove_prefix(end == std::string_view::npos ? markdown.size() : end + 1);
        ++number;
        if (line.starts_with("## ")) {
            inside = line.substr(3) == file;
            continue;
        }
        if (!inside || !line.starts_with("| `")) continue;
        auto close = line.find('`', 3);
        if (close == std::string_view::npos || line.substr(close + 1, 2) != " |") {
            throw std::runtime_error("docs/configuration.md:" + std::to_string(number) +
                                     ": a key row must start with | `path` |");
        }
        keys.emplace(line.substr(3, close - 3));
    }
    return keys;
}

// "" when asked and documented are equal; otherwise one line per difference.
inline std::string key_differences(const std::set<std::string, std::less<>>& asked,
                                   const std::set<std::string, std::less<>>& documented) {
    std::string out;
    for (const auto& key : asked) {
        if (!documented.contains(key)) out += "read by the loader, not documented: " + key + "\n";
    }
    for (const auto& key : documented) {
        if (!asked.contains(key)) out += "documented, unknown to the loader: " + key + "\n";
    }
    return out;
}

}  // namespace muster::test
