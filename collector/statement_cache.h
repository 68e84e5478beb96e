#pragma once
// Prepared statements kept per connection, so that the hot paths of ingest never prepare the
// same SQL twice. Not thread-safe: one cache belongs to one connection, which belongs to one
// thread at a time (the store's mutexes).
#include "common/sqlite.h"

#include <map>
#include <string>
#include <string_view>

namespace muster::collector {

// A cached statement lent out for one use. Resetting it when the use ends matters: a
// statement left mid-step keeps its read transaction, and with it an old WAL snapshot, open.
class statement_use {
  public:
    explicit statement_use(sqlite_statement& statement) : statement_(statement) {}
    statement_use(const statement_use&) = delete;
    statement_use& operator=(const statement_use&) = delete;
    ~statement_use() {
        statement_.reset();
        statement_.clear_bindings();
    }
    sqlite_statement* operator->() { return &statement_; }
    sqlite_statement& operator*() { return statement_; }

  private:
    sqlite_statement& statement_;
};

class statement_cache {
  public:
    explicit statement_cache(sqlite_database& db) : db_(db) {}

    statement_use operator()(std::string_view sql) {
        auto found = statements_.find(sql);
        if (found == statements_.end()) {
            found = statements_.emplace(std::string(sql), db_.prepare(sql)).first;
        }
        return statement_use(found->second);
    }

    sqlite_database& db() { return db_; }

  private:
    sqlite_database& db_;
    std::map<std::string, sqlite_statement, std::less<>> statements_;
};

}  // namespace muster::collector
