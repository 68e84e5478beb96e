// Section "users": the local accounts of /etc/passwd.
//
// Fields: name, uid, gid, home, shell (empty home or shell is null). Only /etc/passwd is
// read, never /etc/shadow: no password hash ever reaches the document. NIS compat lines
// ("+name", "-name", "+") are not accounts and are skipped. A malformed line is skipped and
// the first one is reported once, so one bad line never hides the good ones.
#include "agent/inventory/collectors.h"
#include "agent/inventory/read.h"

#include <array>

namespace muster::agent::inventory {

namespace {

constexpr std::string_view section = "users";
constexpr std::string_view passwd_path = "/etc/passwd";

// Splits a passwd line into its 7 fields; nullopt when the count is wrong.
std::optional<std::array<std::string_view, 7>> split_passwd_line(std::string_view line) {
    std::array<std::string_view, 7> fields;
    std::size_t count = 0;
    while (true) {
        auto colon = line.find(':');
        if (count == fields.size()) return std::nullopt;
        fields[count++] = line.substr(0, colon);
        if (colon == std::string_view::npos) break;
        line.remove_prefix(colon + 1);
    }
    if (count != fields.size()) return std::nullopt;
    return fields;
}

boost::json::value null_if_empty(std::string_view text) {
    return text.empty() ? boost::json::value(nullptr) : boost::json::value(text);
}

// One account, or nullopt with the reason it is not one.
std::optional<boost::json::object> parse_account(std::string_view line, std::string& why_not) {
    auto fields = split_passwd_line(line);
    if (!fields) {
        why_not = "expected 7 colon-separated fields";
        return std::nullopt;
    }
    auto& f = *fields;
    auto uid = parse_u64(f[2]);
    auto gid = parse_u64(f[3]);
    if (f[0].empty() || !uid || !gid || *uid > 0xffffffffu || *gid > 0xffffffffu) {
        why_not = "empty name or non-numeric uid/gid";
        return std::nullopt;
    }
    return boost::json::object{{"name", f[0]},
                               {"uid", *uid},
                               {"gid", *gid},
                               {"home", null_if_empty(f[5])},
                               {"shell", null_if_empty(f[6])}};
}

bool is_nis_compat(std::string_view line) {
    return !line.empty() && (line.front() == '+' || line.front() == '-');
}

}  // namespace

boost::json::value collect_users(const context& ctx, error_list& errors) {
    boost::json::array users;
    auto content = read_required(ctx, errors, section, passwd_path, 16 << 20);
    if (!content) return users;

    std::string_view rest = *content;
    std::size_t line_number = 0;
    std::size_t bad_lines = 0;
    std::string first_problem;
    while (!rest.empty()) {
        auto newline = rest.find('\n');
        auto line = rest.substr(0, newline);
        rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line.front() == '#' || is_nis_compat(line)) continue;
        std::string why_not;
        if (auto account = parse_account(line, why_not)) {
            users.emplace_back(std::move(*account));
        } else if (bad_lines++ == 0) {
            first_problem = "corrupt at line " + std::to_string(line_number) + ": " + why_not;
        }
    }
    if (bad_lines > 0) {
        if (bad_lines > 1)
            first_problem += " (and " + std::to_string(bad_lines - 1) + " more bad lines)";
        errors.add(section, passwd_path, first_problem);
    }
    return users;
}

}  // namespace muster::agent::inventory
