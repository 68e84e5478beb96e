#pragma once
// The read side of the admin API (docs/api.md): every list and detail the REST
// routes answer, behind one interface so that a PostgreSQL backend is a second
// implementation. The SQLite implementation reads on its own read-only
// connections (WAL: readers never wait for the ingest writer and see its last
// committed batch).
//
// Lists page by keyset: a page_request carries the key of the last item of the
// previous page (a JSON array, decoded from the opaque cursor by
// admin/cursor.h) and a page answers the key of its own last item when more
// items follow. Keys are compared in SQL (`id > ?`), so page 1,000 costs what
// page 1 costs and rows added meanwhile are neither skipped nor repeated.
//
// Every value from a request is a bound parameter; none is ever spliced into
// SQL text.
//
// Error policy: storage layer. Database failures throw sqlite_error; a filter
// the caller got wrong is caught before (admin_api validates); an unknown id is
// an empty optional.
#include "collector/incidents/settings.h"

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace muster::collector::admin {

struct page_request {
    std::size_t limit = 100;
    std::optional<boost::json::array> after;  // the last key of the previous page
};

struct page {
    boost::json::array items;
    std::optional<boost::json::array> next_key;  // nullopt on the last page
};

enum class version_op { lt, le, eq, ge, gt };

struct version_filter {
    version_op op = version_op::lt;
    std::string version;
};

// docs/api.md "Hosts"; every member optional, all combined with AND.
struct host_filter {
    std::optional<std::string> search;
    std::optional<std::string> os;
    std::optional<std::string> tag;
    std::optional<std::string> service;
    std::optional<std::string> state;
    std::optional<std::string> software;
    std::optional<version_filter> version;  // only with software
};

struct history_filter {
    std::optional<std::int64_t> since;
    std::optional<std::int64_t> until;
    std::optional<std::string> section;
};

struct incident_filter {
    std::optional<std::string> state;  // open, new, acknowledged, resolved, closed
    std::optional<std::string> priority;
    std::optional<std::int64_t> ci_id;
    std::optional<std::string> service;
    std::optional<std::string> check;
};

enum class role { viewer = 0, operator_ = 1, admin = 2 };
std::string_view to_string(role value);
std::optional<role> role_from_string(std::string_view text);

struct api_token {
    std::int64_t id = 0;
    std::string name;
    admin::role role = role::viewer;
    std::optional<std::int64_t> last_used_at;
};

class admin_queries {
  public:
    virtual ~admin_queries() = default;

    // Hosts. resolve_host answers the ids of the CIs an id or hostname names
    // (several when a hostname is shared; empty when none).
    virtual page hosts(const host_filter& filter, const page_request& request) = 0;
    virtual std::vector<std::int64_t> resolve_host(std::string_view id_or_hostname) = 0;
    virtual std::optional<boost::json::object> host(std::int64_t ci_id) = 0;
    virtual page host_history(std::int64_t ci_id, const history_filter& filter,
                              const page_request& request) = 0;

    // Software catalogue.
    virtual page software(const std::optional<std::string>& search,
                          const page_request& request) = 0;
    virtual std::optional<boost::json::object> software_versions(std::string_view name) = 0;

    // Agents.
    virtual page agents(const std::optional<std::string>& status, const page_request& request) = 0;
    virtual std::optional<boost::json::object> agent(std::string_view agent_id) = 0;

    // Services of collector.yaml with their host counts.
    virtual boost::json::array services() = 0;

    // Incidents and problems (tables of the incidents migration; empty before it
    // ran). Breach flags are judged as of now.
    virtual page incidents(const incident_filter& filter, const page_request& request,
                           std::int64_t now) = 0;
    virtual std::optional<boost::json::object> incident(std::int64_t id, bool with_events,
                                                        std::int64_t now) = 0;
    virtual page problems(const std::optional<std::string>& state, const page_request& request) = 0;

    // Tokens kept in the CMDB (api_tokens). find_token looks a token up by the
    // hex SHA-256 of its text; revoked tokens are not found.
    virtual std::optional<api_token> find_token(std::string_view token_sha256) = 0;
    virtual page tokens(const page_request& request) = 0;
    virtual std::optional<boost::json::object> token(std::int64_t id) = 0;
};

// The writes the admin API makes itself (tokens); kept apart from cmdb_store,
// which the ingest path owns, and from the read connections.
class token_writer {
  public:
    virtual ~token_writer() = default;
    // Stores the hash of a new token; answers its id.
    virtual std::int64_t create_token(std::string_view name, role token_role,
                                      std::string_view token_sha256, std::int64_t now) = 0;
    // False when there is no such token or it was already revoked.
    virtual bool revoke_token(std::int64_t id, std::int64_t now) = 0;
    virtual void touch_token(std::int64_t id, std::int64_t now) = 0;
};

// A cursor whose key does not have the shape of the list's keys (admin_api
// answers 400).
class invalid_key : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

struct sqlite_queries_options {
    std::filesystem::path database;
    std::vector<incidents::service_definition> services;
    std::size_t connections = 2;  // read connections kept open
    // How long the software catalogue may lag the newest reports while it is
    // rebuilt in the background (admin/catalogue.h); 0: always exact.
    std::chrono::seconds catalogue_max_lag{30};
};

std::unique_ptr<admin_queries> open_sqlite_queries(sqlite_queries_options options);
std::unique_ptr<token_writer> open_sqlite_token_writer(const std::filesystem::path& database);

}  // namespace muster::collector::admin
