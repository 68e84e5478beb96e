#include "agent/inventory/os_release.h"

#include "agent/inventory/text.h"
#include "common/file.h"

#include <cctype>

namespace muster::agent::inventory {

namespace {

bool is_variable_name(std::string_view key) {
    if (key.empty() || std::isdigit(static_cast<unsigned char>(key.front()))) return false;
    for (char c : key)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    return true;
}

bool escapable_in_double_quotes(char c) {
    return c == '$' || c == '"' || c == '\\' || c == '`';
}

}  // namespace

std::string unquote_shell_word(std::string_view raw) {
    std::string out;
    enum class mode { bare, single, dquote } m = mode::bare;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        switch (m) {
            case mode::bare:
                if (c == ' ' || c == '\t') return out;
                if (c == '\'')
                    m = mode::single;
                else if (c == '"')
                    m = mode::dquote;
                else if (c == '\\' && i + 1 < raw.size())
                    out += raw[++i];
                else
                    out += c;
                break;
            case mode::single:
                if (c == '\'')
                    m = mode::bare;
                else
                    out += c;
                break;
            case mode::dquote:
                if (c == '"')
                    m = mode::bare;
                else if (c == '\\' && i + 1 < raw.size() && escapable_in_double_quotes(raw[i + 1]))
                    out += raw[++i];
                else
                    out += c;
                break;
        }
    }
    return out;
}

std::map<std::string, std::string> parse_os_release(std::string_view text) {
    std::map<std::string, std::string> values;
    for (auto line : split_lines(text)) {
        line = trim(line);
        if (line.empty() || line.front() == '#') continue;
        auto equals = line.find('=');
        if (equals == std::string_view::npos) continue;
        auto key = line.substr(0, equals);
        if (!is_variable_name(key)) continue;
        values[std::string(key)] = unquote_shell_word(line.substr(equals + 1));
    }
    return values;
}

}  // namespace muster::agent::inventory
