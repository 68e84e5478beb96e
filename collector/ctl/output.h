#pragma once
// musterctl's three output formats (docs/musterctl.md, "Output"):
//   json   a list is an array of objects, a single item one object; indented
//   csv    RFC 4180, a header row, then one row per item; nested values as compact JSON
//   table  aligned columns of the main fields for people; times as UTC dates
//
// Error policy: none; writing to a stream cannot fail in a way we could report better.
#include <boost/json.hpp>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace muster::ctl {

enum class output_format { table, json, csv };

// Lists: `columns` are the fields a table shows (json and csv show every field).
void print_list(std::ostream& out, output_format format, const boost::json::array& items,
                const std::vector<std::string>& columns);
// One item: a table shows `fields` (every field when empty) as "name  value" lines.
void print_item(std::ostream& out, output_format format, const boost::json::object& item,
                const std::vector<std::string>& fields = {});

// The cell text of one value, as csv writes it (null is "", nested values compact JSON).
std::string cell_text(const boost::json::value& value);
std::string csv_field(std::string_view text);

}  // namespace muster::ctl
