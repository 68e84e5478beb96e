#include "collector/admin/read_pool.h"

#include "collector/incidents/rules.h"
#include "common/crypto.h"
#include "common/version_compare.h"

#include <sqlite3.h>

#include <span>

namespace muster::collector::admin {
namespace {

namespace json = boost::json;

constexpr int busy_timeout_ms = 10'000;

std::string_view text_argument(sqlite3_value* value) {
    const auto* text = sqlite3_value_text(value);
    if (!text) return {};
    return {reinterpret_cast<const char*>(text),
            static_cast<std::size_t>(sqlite3_value_bytes(value))};
}

void version_cmp(sqlite3_context* context, int, sqlite3_value** arguments) {
    if (sqlite3_value_type(arguments[1]) == SQLITE_NULL ||
        sqlite3_value_type(arguments[2]) == SQLITE_NULL) {
        sqlite3_result_null(context);
        return;
    }
    int order = compare_versions(text_argument(arguments[0]), text_argument(arguments[1]),
                                 text_argument(arguments[2]));
    sqlite3_result_int(context, order < 0 ? -1 : (order > 0 ? 1 : 0));
}

std::vector<std::string> tags_of(std::string_view tags_json) {
    std::vector<std::string> tags;
    boost::system::error_code ec;
    auto parsed = json::parse(tags_json, ec);
    if (ec || !parsed.is_array()) return tags;
    for (const auto& tag : parsed.get_array()) {
        if (tag.is_string()) tags.emplace_back(tag.get_string());
    }
    return tags;
}

void service_function(sqlite3_context* context, int, sqlite3_value** arguments) {
    const auto* services =
        static_cast<const std::vector<incidents::service_definition>*>(sqlite3_user_data(context));
    incidents::ci_attributes ci;
    ci.hostname = text_argument(arguments[0]);
    ci.tags = tags_of(text_argument(arguments[1]));
    ci.os_id = text_argument(arguments[2]);
    ci.os_name = text_argument(arguments[3]);
    const auto* service = incidents::service_for(ci, std::span(*services));
    if (!service) {
        sqlite3_result_null(context);
        return;
    }
    sqlite3_result_text(context, service->name.c_str(), static_cast<int>(service->name.size()),
                        SQLITE_TRANSIENT);
}

void register_function(sqlite_database& db, const char* name, int arguments,
                       void (*function)(sqlite3_context*, int, sqlite3_value**), void* data) {
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    int rc = sqlite3_create_function_v2(db.handle(), name, arguments, flags, data, function,
                                        nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
        throw sqlite_error(rc, std::string("cannot register ") + name + ": " + sqlite3_errstr(rc));
    }
}

}  // namespace

read_pool::connection::connection(const std::filesystem::path& path)
    : db(path, sqlite_open::read_only), sql(db) {
    db.set_busy_timeout(busy_timeout_ms);
}

read_pool::read_pool(const std::filesystem::path& path, std::size_t size,
                     std::vector<incidents::service_definition> services)
    : services_(std::move(services)) {
    for (std::size_t i = 0; i < std::max<std::size_t>(size, 1); ++i) {
        auto lent = std::make_unique<connection>(path);
        register_function(lent->db, "muster_version_cmp", 3, version_cmp, nullptr);
        register_function(lent->db, "muster_service", 4, service_function, &services_);
        free_.push_back(lent.get());
        all_.push_back(std::move(lent));
    }
}

read_pool::lease read_pool::acquire() {
    std::unique_lock lock(mutex_);
    released_.wait(lock, [this] { return !free_.empty(); });
    auto* lent = free_.back();
    free_.pop_back();
    return lease(*this, lent);
}

void read_pool::give_back(connection* lent) {
    {
        std::lock_guard lock(mutex_);
        free_.push_back(lent);
    }
    released_.notify_one();
}

json::value column_json(sqlite_statement& statement, int column) {
    switch (sqlite3_column_type(statement.handle(), column)) {
        case SQLITE_INTEGER:
            return statement.column_int64(column);
        case SQLITE_FLOAT:
            return statement.column_double(column);
        case SQLITE_NULL:
            return nullptr;
        case SQLITE_BLOB:
            return json::string(hex_encode(statement.column_blob(column)));
        default:
            return json::string(statement.column_text(column));
    }
}

json::object row_object(sqlite_statement& statement, int first, int end) {
    json::object row;
    if (end < 0) end = statement.column_count();
    for (int column = first; column < end; ++column) {
        row[sqlite3_column_name(statement.handle(), column)] = column_json(statement, column);
    }
    return row;
}

bool table_exists(sqlite_database& db, std::string_view table) {
    auto select = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
    select.bind(1, table);
    return select.step();
}

}  // namespace muster::collector::admin
