// Package source "rpm": the rpm database, SQLite backend (RHEL/Rocky/Alma 9, Fedora 33+).
//
// The database is /var/lib/rpm/rpmdb.sqlite (on Fedora 36+ /var/lib/rpm links to
// /usr/lib/sysimage/rpm). Table Packages(hnum, blob) holds one header blob per installed
// package; the blob is parsed by rpm_header.cpp. Like `rpm -qa`, every header is listed,
// gpg-pubkey pseudo packages included (they have no arch: arch is "").
//
// The database is opened read-only and takes no lock, so a running rpm/dnf is never
// blocked. If SQLite cannot open it that way (a WAL database in a directory we may not
// write), it is opened again as immutable.
//
// The Berkeley DB (Packages, RHEL 7/8) and ndb (Packages.db, SUSE) backends are not read
// yet; a machine that has one gets one errors entry saying so.
#include "agent/inventory/software/helpers.h"
#include "agent/inventory/software/rpm_header.h"
#include "agent/inventory/software/sources.h"

#include <sqlite3.h>

#include <array>
#include <memory>

namespace muster::agent::inventory {

namespace {

using namespace software_detail;

struct sqlite_closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct statement_finalizer {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using sqlite_db = std::unique_ptr<sqlite3, sqlite_closer>;
using sqlite_statement = std::unique_ptr<sqlite3_stmt, statement_finalizer>;

// A file: URI for SQLite; '%', '?' and '#' in the path must be escaped.
std::string sqlite_uri(const std::string& path, std::string_view parameters) {
    std::string uri = "file:";
    for (char c : path) {
        if (c == '%' || c == '?' || c == '#') {
            static constexpr char hex[] = "0123456789abcdef";
            uri += '%';
            uri += hex[(static_cast<unsigned char>(c) >> 4) & 0xf];
            uri += hex[static_cast<unsigned char>(c) & 0xf];
        } else {
            uri += c;
        }
    }
    return uri.append("?").append(parameters);
}

package to_package(const rpm_header& h) {
    package p;
    p.name = h.name;
    p.version = rpm_display_version(h);
    p.arch = h.arch.value_or("");
    p.source = "rpm";
    p.vendor = h.vendor;
    if (h.install_time) p.installed_at = iso8601_utc(*h.install_time);
    p.size_bytes = h.size;
    return p;
}

// Reads every header of one SQLite rpmdb. Returns SQLite's error text when the database as
// a whole cannot be read; corrupt blobs go to `problems` and the others are still listed.
std::optional<std::string> read_sqlite_rpmdb(const std::string& file, std::string_view mode,
                                             std::vector<package>& out,
                                             corruption_report& problems) {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(sqlite_uri(file, mode).c_str(), &raw,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
    sqlite_db db(raw);
    if (rc != SQLITE_OK) return raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);

    sqlite3_stmt* raw_statement = nullptr;
    rc = sqlite3_prepare_v2(db.get(), "SELECT hnum, blob FROM Packages ORDER BY hnum", -1,
                            &raw_statement, nullptr);
    sqlite_statement statement(raw_statement);
    if (rc != SQLITE_OK) return sqlite3_errmsg(db.get());

    std::vector<package> found;
    while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) {
        auto hnum = sqlite3_column_int64(statement.get(), 0);
        auto* data = static_cast<const unsigned char*>(sqlite3_column_blob(statement.get(), 1));
        auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement.get(), 1));
        auto parsed = parse_rpm_header({data, data ? size : 0});
        if (auto* problem = std::get_if<rpm_header_problem>(&parsed)) {
            problems.add(problem->byte, "package " + std::to_string(hnum) + ": " + problem->what);
            continue;
        }
        found.push_back(to_package(std::get<rpm_header>(parsed)));
    }
    if (rc != SQLITE_DONE) return sqlite3_errmsg(db.get());
    out.insert(out.end(), std::make_move_iterator(found.begin()),
               std::make_move_iterator(found.end()));
    return std::nullopt;
}

void read_sqlite(const context& ctx, error_list& errors, std::string_view absolute,
                 std::vector<package>& out) {
    auto file = ctx.path(absolute).string();
    corruption_report problems;
    auto failure = read_sqlite_rpmdb(file, "mode=ro", out, problems);
    if (failure) {
        corruption_report retry_problems;
        if (!read_sqlite_rpmdb(file, "immutable=1", out, retry_problems)) {
            failure.reset();
            problems = retry_problems;
        }
    }
    if (failure) problems.add_text(*failure);
    problems.flush(errors, absolute);
}

struct rpmdb_location {
    std::string_view sqlite, bdb, ndb;
};

}  // namespace

void read_rpm_packages(const context& ctx, error_list& errors, std::vector<package>& out) {
    // /var/lib/rpm first: where it is a link to /usr/lib/sysimage/rpm both are one database.
    static constexpr std::array<rpmdb_location, 2> locations{{
        {"/var/lib/rpm/rpmdb.sqlite", "/var/lib/rpm/Packages", "/var/lib/rpm/Packages.db"},
        {"/usr/lib/sysimage/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/Packages",
         "/usr/lib/sysimage/rpm/Packages.db"},
    }};
    for (const auto& at : locations) {
        if (path_exists(ctx.path(at.sqlite))) {
            read_sqlite(ctx, errors, at.sqlite, out);
        } else if (path_exists(ctx.path(at.ndb))) {
            errors.add("software", at.ndb, "rpm database backend ndb is not supported yet");
        } else if (path_exists(ctx.path(at.bdb))) {
            errors.add("software", at.bdb, "rpm database backend bdb is not supported yet");
        } else {
            continue;
        }
        return;  // rpm uses one database; the first found is the one
    }
}

}  // namespace muster::agent::inventory
