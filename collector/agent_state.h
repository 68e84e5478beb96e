#pragma once
// The state an agent's next delta applies to (docs/protocol.md, "Deltas"), kept per section:
// each section's canonical JSON, gzip-compressed, in its own row. A delta then parses and
// rewrites only the sections it changes; the state hash is computed from the stored
// canonical texts without parsing the rest. canonical_json of the whole state is exactly
// "{" + "\"name\":" + text + "," ... + "}" over the sections in byte order of their names,
// which is what state_hash_of builds.
//
// Error policy: storage failures throw sqlite_error; a stored section that does not
// decompress or parse (which only a damaged database produces) throws std::runtime_error.
#include "collector/statement_cache.h"

#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace muster::collector {

// Section name -> canonical JSON of its value. std::string orders as unsigned bytes, the
// order of canonical JSON.
using section_texts = std::map<std::string, std::string, std::less<>>;

struct state_header {
    std::int64_t seq = 0;
    std::string state_hash;
};

std::optional<state_header> load_state_header(statement_cache& sql, std::string_view agent_id);

// The canonical texts of all sections.
section_texts load_section_texts(statement_cache& sql, std::string_view agent_id);

// The parsed values of the named sections among texts.
boost::json::object parse_named_texts(const section_texts& texts,
                                      const std::set<std::string, std::less<>>& names);

// Every section of a state as canonical text.
section_texts texts_of(const boost::json::object& state);

// The parsed state made of texts.
boost::json::object parse_texts(const section_texts& texts);

// Lower-case hex SHA-256 of the canonical JSON of the state made of these sections.
std::string state_hash_of(const section_texts& texts);

// Writes the header and the given sections; a name mapped to nullopt is deleted.
void write_state(statement_cache& sql, std::string_view agent_id, const state_header& header,
                 const std::map<std::string, std::optional<std::string>, std::less<>>& sections);

// Removes the whole stored state of an agent (before a full report replaces it).
void clear_state(statement_cache& sql, std::string_view agent_id);

}  // namespace muster::collector
