#pragma once
// Canonical JSON (docs/protocol.md, "Canonical JSON and the state hash"): the one text of a
// JSON value that agent and collector hash. No white space, object members sorted by the
// bytes of their key, minimal string escapes, integers only.
//
// Error policy: a floating point number has no canonical form; meeting one throws
// std::invalid_argument naming its JSON pointer (RFC 6901).
#include <boost/json.hpp>

#include <string>

namespace muster {

std::string canonical_json(const boost::json::value& value);

// Appends the canonical JSON of value to out (for callers that build a larger text).
void append_canonical_json(std::string& out, const boost::json::value& value);

}  // namespace muster
