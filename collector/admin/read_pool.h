#pragma once
// Read-only connections to the CMDB for the admin API, kept open and lent out one request at a
// time (the API runs on several I/O threads; a SQLite connection and its statement cache serve
// one thread at a time). Each connection has the API's SQL functions registered:
//
//   muster_version_cmp(source, a, b)  <0, 0, >0 as common/version_compare.h orders a and b by
//                                     the package source's rules (dpkg for deb, rpm for rpm)
//   muster_service(hostname, tags_json, os_id, os_name)
//                                     the first service of collector.yaml the CI belongs to
//                                     (incidents::service_for), or NULL
//
// Error policy: storage layer; opening or preparing throws sqlite_error.
#include "collector/incidents/settings.h"
#include "collector/statement_cache.h"
#include "common/sqlite.h"

#include <boost/json.hpp>

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

namespace muster::collector::admin {

class read_pool {
  public:
    struct connection {
        explicit connection(const std::filesystem::path& path);
        sqlite_database db;
        statement_cache sql;
    };

    class lease {
      public:
        lease(read_pool& pool, connection* lent) : pool_(pool), lent_(lent) {}
        lease(const lease&) = delete;
        lease& operator=(const lease&) = delete;
        ~lease() { pool_.give_back(lent_); }
        connection* operator->() const { return lent_; }

      private:
        read_pool& pool_;
        connection* lent_;
    };

    read_pool(const std::filesystem::path& path, std::size_t size,
              std::vector<incidents::service_definition> services);

    // Waits for a free connection.
    lease acquire();

  private:
    void give_back(connection* lent);

    std::vector<incidents::service_definition> services_;  // the functions point here
    std::vector<std::unique_ptr<connection>> all_;
    std::mutex mutex_;
    std::condition_variable released_;
    std::vector<connection*> free_;
};

// The value of a result column as JSON: INTEGER, REAL, TEXT as themselves, NULL as null, a
// BLOB as lower-case hex.
boost::json::value column_json(sqlite_statement& statement, int column);
// The current row as an object named by the result columns, columns [first, end) (end -1: to
// the last).
boost::json::object row_object(sqlite_statement& statement, int first = 0, int end = -1);

// Whether a table exists in the connection's database (tables of later migrations).
bool table_exists(sqlite_database& db, std::string_view table);

}  // namespace muster::collector::admin
