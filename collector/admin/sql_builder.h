#pragma once
// Building a query whose WHERE clause depends on which filters a request gave: the SQL text is
// made only of fixed fragments and numbered parameters; the values are collected beside it and
// bound, never spliced. The same set of filters always gives the same text, so prepared
// statements are reused from the connection's statement cache.
//
// Error policy: none; binding throws sqlite_error like any statement use.
#include "common/sqlite.h"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace muster::collector::admin {

class sql_params {
  public:
    // Adds a value; answers its placeholder ("?3") for the SQL text.
    std::string add(std::int64_t value) { return push(value); }
    std::string add(std::string value) { return push(std::move(value)); }

    void bind(sqlite_statement& statement) const {
        int index = 1;
        for (const auto& value : values_) {
            std::visit([&](const auto& v) { statement.bind(index, v); }, value);
            ++index;
        }
    }

  private:
    std::string push(std::variant<std::int64_t, std::string> value) {
        values_.push_back(std::move(value));
        return "?" + std::to_string(values_.size());
    }
    std::vector<std::variant<std::int64_t, std::string>> values_;
};

// The AND of conditions, as " WHERE a AND b" (empty when there are none).
class sql_where {
  public:
    void add(std::string condition) { conditions_.push_back(std::move(condition)); }
    std::string text() const {
        std::string out;
        for (const auto& condition : conditions_) {
            out += out.empty() ? " WHERE " : " AND ";
            out += condition;
        }
        return out;
    }

  private:
    std::vector<std::string> conditions_;
};

}  // namespace muster::collector::admin
