#include "collector/admin/catalogue.h"

#include "common/logging.h"

#include <algorithm>
#include <vector>

namespace muster::collector::admin {
namespace {

constexpr int busy_timeout_ms = 10'000;

// Rolls back the read transaction the build runs in (it reads only).
struct read_transaction {
    explicit read_transaction(sqlite_database& database) : db(database) { db.exec("BEGIN"); }
    ~read_transaction() {
        try {
            db.exec("COMMIT");
        } catch (...) {
            // Nothing was written; the connection stays usable.
        }
    }
    sqlite_database& db;
};

std::int64_t largest_ci_id(sqlite_database& db) {
    auto select = db.prepare("SELECT coalesce(max(id), 0) FROM cis");
    select.step();
    return std::max<std::int64_t>(select.column_int64(0), 0);
}

}  // namespace

software_catalogue::software_catalogue(const std::filesystem::path& database,
                                       std::chrono::seconds max_lag)
    : max_lag_(max_lag), db_(database, sqlite_open::read_only) {
    db_.set_busy_timeout(busy_timeout_ms);
}

software_catalogue::marker software_catalogue::read_marker(sqlite_database& db) {
    auto select = db.prepare(
        "SELECT (SELECT coalesce(max(id), 0) FROM "
        "ci_history), (SELECT coalesce(max(id), 0) "
        "FROM cis)");
    select.step();
    return {select.column_int64(0), select.column_int64(1)};
}

software_catalogue::snapshot software_catalogue::build() {
    std::lock_guard lock(build_mutex_);
    read_transaction transaction(db_);
    snapshot out;
    out.built_from = read_marker(db_);
    out.built_at = std::chrono::steady_clock::now();
    auto entries = std::make_shared<std::vector<catalogue_entry>>();
    // Package by package in the order of their index (a name's packages contiguous, its
    // versions sorted), then each package's installs: a name and a version are read once per
    // package, and each of the millions of installs is one integer. A host is counted once
    // per name however many arches or versions it has; a package nobody has counts nowhere.
    std::vector<std::size_t> counted_for(static_cast<std::size_t>(largest_ci_id(db_)) + 1);
    auto packages = db_.prepare(
        "SELECT id, name, version FROM software_packages INDEXED BY software_packages_name "
        "WHERE name IS NOT NULL ORDER BY name, version");
    auto installs = db_.prepare("SELECT ci_id FROM ci_software_installs WHERE package_id = ?1");
    std::string version;
    bool has_version = false;
    while (packages.step()) {
        installs.reset();
        installs.bind(1, packages.column_int64(0));
        bool first = true;
        while (installs.step()) {
            if (first) {
                first = false;
                auto name = packages.column_text_view(1);
                if (entries->empty() || entries->back().name != name) {
                    entries->push_back({std::string(name), 0, 0});
                    has_version = false;
                }
                auto this_version = packages.column_text_view(2);
                if (!has_version || this_version != version) {
                    ++entries->back().versions;
                    version.assign(this_version);
                    has_version = true;
                }
            }
            auto ci_id = installs.column_int64(0);
            if (ci_id < 0) continue;  // only a damaged file has one; not an index
            auto ci = static_cast<std::size_t>(ci_id);
            if (ci >= counted_for.size()) counted_for.resize(ci + 1);
            if (counted_for[ci] != entries->size()) {
                counted_for[ci] = entries->size();
                ++entries->back().hosts;
            }
        }
    }
    out.entries = std::move(entries);
    return out;
}

void software_catalogue::rebuild_in_background() {
    // Called with mutex_ held. A finished rebuild has cleared the flag as its
    // last step.
    if (rebuilding_.exchange(true)) return;
    if (background_.joinable()) background_.join();
    background_ = std::jthread([this] {
        try {
            auto fresh = build();
            std::lock_guard lock(mutex_);
            cached_ = std::move(fresh);
        } catch (const std::exception& e) {
            get_logger("admin")->warn("rebuilding the software catalogue failed: {}", e.what());
        }
        rebuilding_ = false;
    });
}

std::shared_ptr<const std::vector<catalogue_entry>> software_catalogue::current(
    sqlite_database& marker_db) {
    auto now_marker = read_marker(marker_db);
    {
        std::lock_guard lock(mutex_);
        if (cached_.entries) {
            if (cached_.built_from == now_marker) return cached_.entries;
            auto age = std::chrono::steady_clock::now() - cached_.built_at;
            if (age < max_lag_) {
                rebuild_in_background();
                return cached_.entries;
            }
        }
    }
    auto fresh = build();
    std::lock_guard lock(mutex_);
    cached_ = fresh;
    return fresh.entries;
}

}  // namespace muster::collector::admin
