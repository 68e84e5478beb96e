#pragma once
// JSON output helpers (Boost.JSON).
#include <boost/json.hpp>

#include <string>

namespace muster {

// Indented, human-readable JSON (two spaces), keys in document order, newline at the end.
std::string to_pretty_json(const boost::json::value& value);

}  // namespace muster
