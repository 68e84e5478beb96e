#pragma once
// A small JSON Schema validator for the subset docs/*.schema.json use: type (one or a list,
// "integer" distinct from "number"), properties, required, additionalProperties: false,
// items, enum, minimum, maximum. Enough to keep the documented schema and the code in step.
#include <boost/json.hpp>

#include <string>
#include <vector>

namespace muster::test {

// Returns one message per violation, each starting with the JSON pointer of the value.
std::vector<std::string> validate_json(const boost::json::value& schema,
                                       const boost::json::value& document);

// Loads a schema file from docs/.
boost::json::value load_schema(const std::string& path);

}  // namespace muster::test
