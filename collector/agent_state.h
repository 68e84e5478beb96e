#pragma once
// The state an agent's next delta applies to (docs/protocol.md, "Deltas"), stored as the
// canonical JSON texts it is hashed from, uncompressed, in three tables (docs/cmdb.md):
// - agent_states: the seq and state hash;
// - agent_state_values: one row per section, body the canonical JSON of the section, or
//   NULL for a row section (an array) whose rows are kept in blocks;
// - agent_state_blocks: the rows of such a section in blocks of consecutive rows in key
//   order, body their canonical texts joined by ',', labelled by the key of the first row;
//   a block is kept under about 2,400 bytes (a rowid table with a unique index on
//   agent_id, section, first_key: schema version 6).
// A delta reads, parses and rewrites only the blocks that hold the rows it names. The state
// hash streams the stored texts through one SHA-256 context, in the order of canonical
// JSON: "{" "name":text "," ... "}" over the sections in byte order of their names, a block
// section's text being "[" block "," block ... "]".
//
// Error policy: storage failures throw sqlite_error; a stored text that does not parse (only
// a damaged database has one) throws boost::system::system_error. Changes that do not apply
// to the stored state are a returned error (changes_category), never an exception.
#include "collector/statement_cache.h"

#include <boost/json.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace muster::collector {

struct state_header {
    std::int64_t seq = 0;
    std::string state_hash;
};

// One row of a row section: the canonical JSON of its key and of the row.
struct row_text {
    std::string key;
    std::string text;
};

// A section as stored: the canonical JSON of its value, or (rows) its rows in key order.
struct section_text {
    bool rows = false;
    std::string value;
    std::vector<row_text> row_texts;
};

// Section name -> its texts. std::string orders as unsigned bytes, the order of canonical
// JSON.
using state_texts = std::map<std::string, section_text, std::less<>>;

// The texts of a state made by make_state (rows sorted and unique by key).
state_texts texts_of(const boost::json::object& state);

// Rows of a section in key order, pointing into a state or an inventory.
using row_pointers = std::vector<const boost::json::object*>;
using section_rows = std::map<std::string, row_pointers, std::less<>>;

// A full report's state, made from its inventory without copying the rows of row sections
// that lose no volatile field (software above all), so the inventory must outlive it. It
// equals make_state(inventory): texts() hash to the same, and every() is that state. A full
// report of a new host needs no more than texts(), values() and rows(); every() copies.
class full_state {
  public:
    explicit full_state(const boost::json::object& inventory);
    full_state(const full_state&) = delete;
    full_state& operator=(const full_state&) = delete;

    const state_texts& texts() const { return texts_; }
    // Every section but the row sections held by reference, in their state form.
    const boost::json::object& values() const { return values_; }
    // Each row section that is an array: its rows in key order, the first of each key.
    const section_rows& rows() const { return rows_; }
    // The whole state, as make_state makes it.
    boost::json::object every() const;

  private:
    boost::json::object values_;
    section_rows rows_;
    std::vector<std::string> by_reference_;  // the sections of rows_ not in values_
    state_texts texts_;
};

// Lower-case hex SHA-256 of the canonical JSON of the state made of these texts.
std::string state_hash_of(const state_texts& texts);

// The same, of the state stored for the agent, without building its text.
std::string stored_state_hash(statement_cache& sql, std::string_view agent_id);

std::optional<state_header> load_state_header(statement_cache& sql, std::string_view agent_id);
void write_state_header(statement_cache& sql, std::string_view agent_id,
                        const state_header& header);

// Replaces every section of the agent's stored state (a full report).
void replace_state(statement_cache& sql, std::string_view agent_id, const state_texts& texts);

// The whole stored state, parsed.
boost::json::object load_state(statement_cache& sql, std::string_view agent_id);

// The sections a delta names, before and after. For a row section changed row by row, only
// the rows of the blocks the change touched: the rows it names are among them, which is all
// that describe_changes and update_ci compare.
struct applied_changes {
    boost::json::object old_sections;
    boost::json::object new_sections;
};

// Applies a delta's changes to the agent's stored state, in place, with the semantics of
// apply_changes (common/inventory_state.h). The caller checks the resulting hash and rolls
// back (its savepoint) when it differs. On an error nothing has been written.
boost::system::result<applied_changes> apply_stored_changes(statement_cache& sql,
                                                            std::string_view agent_id,
                                                            const boost::json::object& changes);

// The migration to this layout (collector/migrations.cpp): moves the gzip-compressed section
// texts of schema version 1's agent_state_sections into the tables above, then drops it.
void convert_compressed_states(sqlite_database& db);

}  // namespace muster::collector
