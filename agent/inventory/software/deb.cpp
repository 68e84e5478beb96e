// Package source "deb": /var/lib/dpkg/status, the database dpkg-query reads.
//
// The file is a list of RFC 822-like stanzas separated by blank lines; a line starting with a
// space or tab continues the previous field. Only packages whose Status says "installed" (the
// third word: "install ok installed", "hold ok installed", ...) are listed; config-files,
// half-installed, unpacked and not-installed entries are not installed software.
//
// Speed matters (hundreds of packages on every inventory run): one read, string_views into
// that buffer, no regex, one stat per installed package for the install time.
//
// installed_at is the modification time of /var/lib/dpkg/info/<name>[:<arch>].list, which
// dpkg rewrites when it unpacks the package. vendor is the Origin field when present.
#include "agent/inventory/read.h"
#include "agent/inventory/software/helpers.h"
#include "agent/inventory/software/sources.h"
#include "common/file.h"

#include <algorithm>
#include <array>

namespace muster::agent::inventory {

namespace {

using namespace software_detail;

constexpr std::string_view status_path = "/var/lib/dpkg/status";

struct deb_stanza {
    std::size_t offset = 0;
    bool empty = true;
    bool broken = false;  // had a line that is not a field; already reported
    std::string_view package, version, architecture, status, multi_arch, installed_size, origin;
};

// A dpkg field name: printable ASCII without spaces or colons, not starting with '-' or '#'.
bool valid_field_name(std::string_view name) {
    if (name.empty() || name.front() == '-' || name.front() == '#') return false;
    for (char c : name)
        if (c <= ' ' || c > '~' || c == ':') return false;
    return true;
}

void assign_field(deb_stanza& s, std::string_view name, std::string_view value) {
    struct slot {
        std::string_view name;
        std::string_view deb_stanza::*field;
    };
    static constexpr std::array<slot, 7> slots{{
        {"Package", &deb_stanza::package},
        {"Version", &deb_stanza::version},
        {"Architecture", &deb_stanza::architecture},
        {"Status", &deb_stanza::status},
        {"Multi-Arch", &deb_stanza::multi_arch},
        {"Installed-Size", &deb_stanza::installed_size},
        {"Origin", &deb_stanza::origin},
    }};
    for (const auto& [field_name, field] : slots) {
        if (iequals(name, field_name)) {
            s.*field = value;
            return;
        }
    }
}

template <std::size_t N>
bool one_of(std::string_view word, const std::array<std::string_view, N>& allowed) {
    for (auto a : allowed)
        if (word == a) return true;
    return false;
}

// The third word of a valid Status ("want flag status"), or empty when the field is invalid.
std::string_view installation_state(std::string_view status) {
    static constexpr std::array<std::string_view, 5> wants{"unknown", "install", "hold",
                                                           "deinstall", "purge"};
    static constexpr std::array<std::string_view, 2> flags{"ok", "reinstreq"};
    static constexpr std::array<std::string_view, 8> states{
        "not-installed",   "config-files",     "half-installed",   "unpacked",
        "half-configured", "triggers-awaited", "triggers-pending", "installed"};
    std::array<std::string_view, 3> words;
    std::size_t n = 0;
    while (!status.empty()) {
        auto space = status.find(' ');
        auto word = status.substr(0, space);
        if (!word.empty()) {
            if (n == words.size()) return {};
            words[n++] = word;
        }
        if (space == std::string_view::npos) break;
        status.remove_prefix(space + 1);
    }
    if (n != 3 || !one_of(words[0], wants) || !one_of(words[1], flags) || !one_of(words[2], states))
        return {};
    return words[2];
}

// The version as dpkg-query prints ${Version}: the epoch only when non-zero (or needed to
// keep a ':' in the rest unambiguous), the revision only when non-empty.
std::string dpkg_display_version(std::string_view stored) {
    stored = trim(stored);
    std::string_view epoch, upstream = stored, revision;
    if (auto colon = stored.find(':'); colon != std::string_view::npos) {
        epoch = stored.substr(0, colon);
        upstream = stored.substr(colon + 1);
    }
    if (auto dash = upstream.rfind('-'); dash != std::string_view::npos) {
        revision = upstream.substr(dash + 1);
        upstream = upstream.substr(0, dash);
    }
    bool zero_epoch = epoch.find_first_not_of('0') == std::string_view::npos;
    bool ambiguous = upstream.find(':') != std::string_view::npos ||
                     revision.find(':') != std::string_view::npos;
    std::string out;
    out.reserve(stored.size());
    if (!zero_epoch || ambiguous) {
        auto digits = epoch.substr(std::min(epoch.find_first_not_of('0'), epoch.size()));
        out.append(digits.empty() ? "0" : digits).push_back(':');
    }
    out.append(upstream);
    if (!revision.empty()) out.append("-").append(revision);
    return out;
}

class status_parser {
  public:
    status_parser(const context& ctx, std::vector<package>& out)
        : info_dir_(ctx.path("/var/lib/dpkg/info/").string()), out_(out) {}

    void parse(std::string_view text) {
        line_reader lines(text);
        line_reader::line line;
        deb_stanza stanza;
        bool after_field = false;
        while (lines.next(line)) {
            if (!line.terminated) {
                if (!stanza.empty || !trim(line.text).empty())
                    problems_.add(stanza.empty ? line.offset : stanza.offset,
                                  "truncated stanza (the file ends inside it)");
                return;
            }
            if (line.text.empty()) {
                if (!stanza.empty) finish(stanza);
                stanza = {};
                after_field = false;
                continue;
            }
            if (stanza.empty) {
                stanza.empty = false;
                stanza.offset = line.offset;
            }
            if (line.text.front() == ' ' || line.text.front() == '\t') {
                if (!after_field) problems_.add(line.offset, "continuation line without a field");
                continue;
            }
            auto colon = line.text.find(':');
            auto name = line.text.substr(0, colon);
            if (colon == std::string_view::npos || !valid_field_name(name)) {
                problems_.add(line.offset, "line is not a field");
                stanza.broken = true;
                continue;
            }
            assign_field(stanza, name, trim(line.text.substr(colon + 1)));
            after_field = true;
        }
        if (!stanza.empty) finish(stanza);
    }

    const corruption_report& problems() const { return problems_; }

  private:
    void finish(const deb_stanza& s) {
        if (s.broken) return;
        if (s.package.empty()) {
            problems_.add(s.offset, "stanza without Package");
            return;
        }
        auto state = installation_state(s.status);
        if (state.empty()) {
            problems_.add(s.offset, "invalid Status of " + std::string(s.package));
            return;
        }
        if (state != "installed") return;
        if (s.version.empty()) {
            problems_.add(s.offset, "installed package without Version: " + std::string(s.package));
            return;
        }
        package p;
        p.name = std::string(s.package);
        p.version = dpkg_display_version(s.version);
        p.arch = std::string(s.architecture);
        p.source = "deb";
        if (!s.origin.empty()) p.vendor = std::string(s.origin);
        if (auto kib = parse_u64(s.installed_size)) p.size_bytes = *kib * 1024;
        if (auto t = list_file_mtime(s)) p.installed_at = iso8601_utc(*t);
        out_.push_back(std::move(p));
    }

    // dpkg names the file list "<name>:<arch>.list" for Multi-Arch: same packages.
    std::optional<std::int64_t> list_file_mtime(const deb_stanza& s) {
        bool qualified = s.multi_arch == "same" && !s.architecture.empty();
        auto path = [&](bool with_arch) {
            std::string p = info_dir_;
            p.append(s.package);
            if (with_arch) p.append(":").append(s.architecture);
            return p.append(".list");
        };
        if (auto t = mtime_of(path(qualified))) return t;
        if (s.architecture.empty()) return std::nullopt;
        return mtime_of(path(!qualified));
    }

    std::string info_dir_;
    std::vector<package>& out_;
    corruption_report problems_;
};

}  // namespace

void read_deb_packages(const context& ctx, error_list& errors, std::vector<package>& out) {
    auto text = read_database(ctx, errors, status_path);
    if (!text) return;
    status_parser parser(ctx, out);
    parser.parse(*text);
    parser.problems().flush(errors, status_path);
}

}  // namespace muster::agent::inventory
