#pragma once
// The os-release(5) format: KEY=value lines, values written as shell words (quoted with ' or
// ", with backslash escapes). Comments and blank lines are skipped; malformed lines ignored.
#include <map>
#include <string>
#include <string_view>

namespace muster::agent::inventory {

std::map<std::string, std::string> parse_os_release(std::string_view text);

// One shell word, unquoted: 'single' is literal, "double" honours \$ \" \\ \` escapes, a bare
// backslash escapes the next character, and unquoted whitespace ends the word.
std::string unquote_shell_word(std::string_view raw);

}  // namespace muster::agent::inventory
