#include "collector/admin/catalogue.h"

#include "common/logging.h"

#include <sqlite3.h>

#include <unordered_map>

namespace muster::collector::admin {
namespace {

constexpr int busy_timeout_ms = 10'000;

std::string_view column_view(sqlite3_stmt* statement, int column) {
    const auto* text = sqlite3_column_text(statement, column);
    if (!text) return {};
    return {reinterpret_cast<const char*>(text),
            static_cast<std::size_t>(sqlite3_column_bytes(statement, column))};
}

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
    // In the order of the packages' index: a name's rows are contiguous, its versions
    // sorted; a host is counted once per name however many arches or versions it has.
    std::unordered_map<std::int64_t, std::size_t> counted_for;  // ci -> entry index + 1
    auto select = db_.prepare(
        "SELECT p.name, p.version, i.ci_id FROM software_packages p "
        "INDEXED BY software_packages_name JOIN ci_software_installs i "
        "INDEXED BY ci_software_installs_package ON i.package_id = p.id "
        "WHERE p.name IS NOT NULL ORDER BY p.name, p.version");
    // Millions of rows: the columns are read in place, a string made only per name and
    // version.
    auto* statement = select.handle();
    std::string version;
    bool has_version = false;
    while (select.step()) {
        auto name = column_view(statement, 0);
        if (entries->empty() || entries->back().name != name) {
            entries->push_back({std::string(name), 0, 0});
            has_version = false;
        }
        auto& entry = entries->back();
        auto this_version = column_view(statement, 1);
        if (!has_version || this_version != version) {
            ++entry.versions;
            version.assign(this_version);
            has_version = true;
        }
        auto& seen = counted_for[sqlite3_column_int64(statement, 2)];
        if (seen != entries->size()) {
            seen = entries->size();
            ++entry.hosts;
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
