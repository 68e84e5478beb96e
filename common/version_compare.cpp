#include "common/version_compare.h"

#include <cstddef>

namespace muster {

namespace {

// Locale-independent classification: versions are ASCII, and bytes >= 0x80 are "other".
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_alnum(char c) {
    return is_digit(c) || is_alpha(c);
}
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int sign(int v) {
    return (v > 0) - (v < 0);
}

std::string_view strip_leading_zeros(std::string_view digits) {
    while (!digits.empty() && digits.front() == '0') digits.remove_prefix(1);
    return digits;
}

// Compares two runs of digits as numbers of unbounded size.
int compare_digit_runs(std::string_view a, std::string_view b) {
    a = strip_leading_zeros(a);
    b = strip_leading_zeros(b);
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    return sign(a.compare(b));
}

std::string_view take_while(std::string_view& s, bool (*pred)(char)) {
    std::size_t n = 0;
    while (n < s.size() && pred(s[n])) ++n;
    auto run = s.substr(0, n);
    s.remove_prefix(n);
    return run;
}

// ----------------------------------------------------------------------------------------
// dpkg

// The weight of one character in a non-digit run; 0 stands for the end of the string (or the
// start of a digit run).
int dpkg_order(std::string_view s) {
    if (s.empty() || is_digit(s.front())) return 0;
    char c = s.front();
    if (c == '~') return -1;
    if (is_alpha(c)) return static_cast<unsigned char>(c);
    return static_cast<unsigned char>(c) + 256;
}

// Alternates non-digit runs (compared character by character) and digit runs (numerically).
int dpkg_compare_part(std::string_view a, std::string_view b) {
    while (!a.empty() || !b.empty()) {
        while ((!a.empty() && !is_digit(a.front())) || (!b.empty() && !is_digit(b.front()))) {
            int ac = dpkg_order(a), bc = dpkg_order(b);
            if (ac != bc) return sign(ac - bc);
            if (!a.empty()) a.remove_prefix(1);
            if (!b.empty()) b.remove_prefix(1);
        }
        int c = compare_digit_runs(take_while(a, is_digit), take_while(b, is_digit));
        if (c != 0) return c;
    }
    return 0;
}

struct dpkg_version {
    std::string_view epoch;  // empty means 0
    std::string_view upstream;
    std::string_view revision;  // empty when absent; "" and "0" compare equal anyway
};

dpkg_version split_dpkg(std::string_view v) {
    while (!v.empty() && is_space(v.front())) v.remove_prefix(1);
    while (!v.empty() && is_space(v.back())) v.remove_suffix(1);
    dpkg_version parts;
    if (auto colon = v.find(':'); colon != std::string_view::npos) {
        parts.epoch = v.substr(0, colon);
        v.remove_prefix(colon + 1);
    }
    if (auto hyphen = v.rfind('-'); hyphen != std::string_view::npos) {
        parts.revision = v.substr(hyphen + 1);
        v = v.substr(0, hyphen);
    }
    parts.upstream = v;
    return parts;
}

// ----------------------------------------------------------------------------------------
// rpm

bool rpm_separator(char c) {
    return !is_alnum(c) && c != '~' && c != '^';
}

void skip_separators(std::string_view& s) {
    while (!s.empty() && rpm_separator(s.front())) s.remove_prefix(1);
}

struct rpm_version {
    std::string_view epoch;  // empty means 0
    std::string_view version;
    std::string_view release;
    bool has_release = false;
};

// The epoch is a leading run of digits ended by ':'; the release follows the last '-'.
rpm_version split_rpm(std::string_view v) {
    rpm_version parts;
    std::size_t digits = 0;
    while (digits < v.size() && is_digit(v[digits])) ++digits;
    if (digits < v.size() && v[digits] == ':') {
        parts.epoch = v.substr(0, digits);
        v.remove_prefix(digits + 1);
    }
    if (auto hyphen = v.rfind('-'); hyphen != std::string_view::npos) {
        parts.release = v.substr(hyphen + 1);
        parts.has_release = true;
        v = v.substr(0, hyphen);
    }
    parts.version = v;
    return parts;
}

}  // namespace

int compare_dpkg_versions(std::string_view a, std::string_view b) {
    auto pa = split_dpkg(a), pb = split_dpkg(b);
    if (int c = compare_digit_runs(pa.epoch, pb.epoch); c != 0) return c;
    if (int c = dpkg_compare_part(pa.upstream, pb.upstream); c != 0) return c;
    return dpkg_compare_part(pa.revision, pb.revision);
}

int compare_rpm_segments(std::string_view a, std::string_view b) {
    if (a == b) return 0;
    for (;;) {
        skip_separators(a);
        skip_separators(b);
        bool a_tilde = !a.empty() && a.front() == '~', b_tilde = !b.empty() && b.front() == '~';
        if (a_tilde || b_tilde) {
            if (!a_tilde) return 1;
            if (!b_tilde) return -1;
            a.remove_prefix(1);
            b.remove_prefix(1);
            continue;
        }
        bool a_caret = !a.empty() && a.front() == '^', b_caret = !b.empty() && b.front() == '^';
        if (a_caret || b_caret) {
            if (a.empty()) return -1;
            if (b.empty()) return 1;
            if (!a_caret) return 1;
            if (!b_caret) return -1;
            a.remove_prefix(1);
            b.remove_prefix(1);
            continue;
        }
        if (a.empty() || b.empty()) break;
        bool numeric = is_digit(a.front());
        auto seg_a = take_while(a, numeric ? is_digit : is_alpha);
        auto seg_b = take_while(b, numeric ? is_digit : is_alpha);
        // Different kinds: the numeric segment is newer.
        if (seg_b.empty()) return numeric ? 1 : -1;
        int c = numeric ? compare_digit_runs(seg_a, seg_b) : sign(seg_a.compare(seg_b));
        if (c != 0) return c;
    }
    if (a.empty() && b.empty()) return 0;
    return a.empty() ? -1 : 1;
}

int compare_rpm_versions(std::string_view a, std::string_view b) {
    auto pa = split_rpm(a), pb = split_rpm(b);
    auto epoch = [](std::string_view e) { return e.empty() ? std::string_view("0") : e; };
    if (int c = compare_rpm_segments(epoch(pa.epoch), epoch(pb.epoch)); c != 0) return c;
    if (int c = compare_rpm_segments(pa.version, pb.version); c != 0) return c;
    if (pa.has_release != pb.has_release) return pa.has_release ? 1 : -1;
    return compare_rpm_segments(pa.release, pb.release);
}

int compare_versions(std::string_view source, std::string_view a, std::string_view b) {
    if (source == "deb" || source == "dpkg") return compare_dpkg_versions(a, b);
    return compare_rpm_versions(a, b);
}

}  // namespace muster
