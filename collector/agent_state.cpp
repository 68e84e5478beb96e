#include "collector/agent_state.h"

#include "common/canonical_json.h"
#include "common/crypto.h"
#include "common/gzip.h"
#include "common/inventory_state.h"
#include "common/logging.h"
#include "common/openssl_handles.h"

#include <openssl/evp.h>

#include <algorithm>
#include <set>
#include <span>
#include <stdexcept>

namespace muster::collector {

namespace json = boost::json;

namespace {

// A section written whole is cut into blocks of about block_bytes; a block that grows past
// max_block_bytes is cut again; a longer row is a block of its own. A delta parses and
// rewrites the blocks holding the rows it names, and the hash reads every block: blocks of
// 32 rows (about 6 KB) spilled into overflow pages, a whole page each, and made a delta that
// upgrades three packages cost 25 % more instructions; blocks of 700 bytes made a full report
// cost 5 % more than these (docs/benchmarks.md). Under about 4,000 bytes a block stays in
// its page of the table's B-tree.
constexpr std::size_t block_bytes = 1600;
constexpr std::size_t max_block_bytes = 2400;

// ----------------------------------------------------------------------------------------
// Hashing a state without building its text

class sha256_stream {
  public:
    sha256_stream() : context_(EVP_MD_CTX_new()) {
        if (!context_ || EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1) {
            throw crypto_error("SHA-256: cannot initialise a digest");
        }
        buffer_.reserve(buffer_bytes);
    }

    // Small pieces (separators, names) are gathered so that the digest sees large updates.
    void add(std::string_view bytes) {
        if (buffer_.size() + bytes.size() > buffer_bytes) flush();
        if (bytes.size() >= buffer_bytes) {
            update(bytes);
        } else {
            buffer_ += bytes;
        }
    }

    std::string hex() {
        flush();
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int size = 0;
        if (EVP_DigestFinal_ex(context_.get(), digest, &size) != 1) {
            throw crypto_error("SHA-256: cannot finish the digest");
        }
        return hex_encode(std::string_view(reinterpret_cast<const char*>(digest), size));
    }

  private:
    static constexpr std::size_t buffer_bytes = 16 * 1024;

    void flush() {
        update(buffer_);
        buffer_.clear();
    }
    void update(std::string_view bytes) {
        if (EVP_DigestUpdate(context_.get(), bytes.data(), bytes.size()) != 1) {
            throw crypto_error("SHA-256: cannot update the digest");
        }
    }

    evp_md_ctx_ptr context_;
    std::string buffer_;
};

// The canonical JSON of a state, piece by piece, into a digest.
class state_hasher {
  public:
    state_hasher() { sha_.add("{"); }

    void value_section(std::string_view name, std::string_view text) {
        begin(name);
        sha_.add(text);
    }
    void begin_rows(std::string_view name) {
        begin(name);
        sha_.add("[");
        first_part_ = true;
    }
    // A row's text, or a block of rows already joined by ','.
    void rows_part(std::string_view text) {
        if (!first_part_) sha_.add(",");
        first_part_ = false;
        sha_.add(text);
    }
    void end_rows() { sha_.add("]"); }

    std::string finish() {
        sha_.add("}");
        return sha_.hex();
    }

  private:
    void begin(std::string_view name) {
        std::string quoted = first_section_ ? "" : ",";
        first_section_ = false;
        append_canonical_json(quoted, json::string(name));
        quoted += ':';
        sha_.add(quoted);
    }

    sha256_stream sha_;
    bool first_section_ = true;
    bool first_part_ = true;
};

// The canonical JSON of a row's key, the array of its key fields (a missing one null): the
// order of the rows in the state (docs/protocol.md, "The state"), and a removed entry's own
// canonical JSON. Throws std::invalid_argument for a floating point field.
std::string row_key(const row_section& section, const json::object& row) {
    std::string key = "[";
    for (auto field : section.key_fields) {
        if (key.size() > 1) key += ',';
        auto* value = row.if_contains(field);
        if (value) {
            append_canonical_json(key, *value);
        } else {
            key += "null";
        }
    }
    key += ']';
    return key;
}

// ----------------------------------------------------------------------------------------
// Blocks

// "[" + body + "]" parsed: the rows of a block, or of several joined by ','.
json::array parse_rows(std::string_view joined) {
    std::string text;
    text.reserve(joined.size() + 2);
    text += '[';
    text += joined;
    text += ']';
    auto rows = json::parse(text);
    if (!rows.is_array()) throw std::runtime_error("stored state: a block is not rows");
    return std::move(rows.get_array());
}

std::size_t body_bytes(std::span<const row_text> rows) {
    std::size_t size = 0;
    for (const auto& row : rows) size += row.text.size() + 1;
    return size;
}

void put_block(statement_cache& sql, std::string_view agent_id, std::string_view section,
               std::span<const row_text> rows) {
    std::string body;
    body.reserve(body_bytes(rows));
    for (const auto& row : rows) {
        if (!body.empty()) body += ',';
        body += row.text;
    }
    // An upsert, not INSERT OR REPLACE: a block rewritten under its label keeps its rowid and
    // its place beside the agent's other blocks.
    auto insert =
        sql("INSERT INTO agent_state_blocks (agent_id, section, first_key, body) "
            "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (agent_id, section, first_key) "
            "DO UPDATE SET body = excluded.body");
    insert->bind(1, agent_id);
    insert->bind(2, section);
    insert->bind(3, rows.front().key);
    insert->bind(4, body);
    insert->step();
}

void delete_block(statement_cache& sql, std::string_view agent_id, std::string_view section,
                  std::string_view first_key) {
    auto remove = sql(
        "DELETE FROM agent_state_blocks WHERE agent_id = ?1 AND section = ?2 AND first_key = ?3");
    remove->bind(1, agent_id);
    remove->bind(2, section);
    remove->bind(3, first_key);
    remove->step();
}

// Rows in key order (at least one) as one block up to max_block_bytes, or else cut into
// blocks of about block_bytes. Every block is labelled by its first key, so that the labels
// order the blocks and never meet an empty one.
void put_rows(statement_cache& sql, std::string_view agent_id, std::string_view section,
              std::span<const row_text> rows) {
    if (body_bytes(rows) <= max_block_bytes) {
        put_block(sql, agent_id, section, rows);
        return;
    }
    std::size_t first = 0;
    std::size_t size = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        std::size_t row = rows[i].text.size() + 1;
        if (i > first && size + row > block_bytes) {
            put_block(sql, agent_id, section, rows.subspan(first, i - first));
            first = i;
            size = 0;
        }
        size += row;
    }
    put_block(sql, agent_id, section, rows.subspan(first));
}

void put_section(statement_cache& sql, std::string_view agent_id, std::string_view name,
                 const section_text& text) {
    auto insert =
        sql("INSERT OR REPLACE INTO agent_state_values (agent_id, section, body) "
            "VALUES (?1, ?2, ?3)");
    insert->bind(1, agent_id);
    insert->bind(2, name);
    if (text.rows) {
        insert->bind(3, nullptr);
    } else {
        insert->bind(3, text.value);
    }
    insert->step();
    if (text.rows && !text.row_texts.empty()) put_rows(sql, agent_id, name, text.row_texts);
}

void delete_section(statement_cache& sql, std::string_view agent_id, std::string_view name) {
    auto section = sql("DELETE FROM agent_state_values WHERE agent_id = ?1 AND section = ?2");
    section->bind(1, agent_id);
    section->bind(2, name);
    section->step();
    auto blocks = sql("DELETE FROM agent_state_blocks WHERE agent_id = ?1 AND section = ?2");
    blocks->bind(1, agent_id);
    blocks->bind(2, name);
    blocks->step();
}

// A section as stored: absent, a value text, or rows (nullopt text) in blocks.
struct stored_kind {
    bool present = false;
    std::optional<std::string> value;
};

stored_kind load_kind(statement_cache& sql, std::string_view agent_id, std::string_view name) {
    auto select = sql("SELECT body FROM agent_state_values WHERE agent_id = ?1 AND section = ?2");
    select->bind(1, agent_id);
    select->bind(2, name);
    if (!select->step()) return {};
    if (select->column_is_null(0)) return {true, std::nullopt};
    return {true, select->column_text(0)};
}

std::vector<std::string> load_labels(statement_cache& sql, std::string_view agent_id,
                                     std::string_view name) {
    std::vector<std::string> labels;
    auto select =
        sql("SELECT first_key FROM agent_state_blocks WHERE agent_id = ?1 AND section = ?2 "
            "ORDER BY first_key");
    select->bind(1, agent_id);
    select->bind(2, name);
    while (select->step()) labels.push_back(select->column_text(0));
    return labels;
}

std::string load_block(statement_cache& sql, std::string_view agent_id, std::string_view name,
                       std::string_view first_key) {
    auto select =
        sql("SELECT body FROM agent_state_blocks WHERE agent_id = ?1 AND section = ?2 AND "
            "first_key = ?3");
    select->bind(1, agent_id);
    select->bind(2, name);
    select->bind(3, first_key);
    if (!select->step()) throw std::runtime_error("stored state: a block vanished");
    return select->column_text(0);
}

// Calls f with the body of every block of a section, in order; the text it is given lives
// until f returns, not copied: the state hash reads every block with each delta.
template <typename F>
void for_each_block(statement_cache& sql, std::string_view agent_id, std::string_view name, F&& f) {
    auto select =
        sql("SELECT body FROM agent_state_blocks WHERE agent_id = ?1 AND section = ?2 "
            "ORDER BY first_key");
    select->bind(1, agent_id);
    select->bind(2, name);
    while (select->step()) f(select->column_text_view(0));
}

json::array load_all_rows(statement_cache& sql, std::string_view agent_id, std::string_view name) {
    std::string joined;
    for_each_block(sql, agent_id, name, [&](std::string_view body) {
        if (!joined.empty()) joined += ',';
        joined += body;
    });
    return parse_rows(joined);
}

// Sections by name, each a value text or nullopt for rows in blocks.
std::map<std::string, std::optional<std::string>, std::less<>> load_sections(
    statement_cache& sql, std::string_view agent_id) {
    std::map<std::string, std::optional<std::string>, std::less<>> sections;
    auto select = sql("SELECT section, body FROM agent_state_values WHERE agent_id = ?1");
    select->bind(1, agent_id);
    while (select->step()) {
        std::optional<std::string> body;
        if (!select->column_is_null(1)) body = select->column_text(1);
        sections.emplace(select->column_text(0), std::move(body));
    }
    return sections;
}

// ----------------------------------------------------------------------------------------
// Applying a delta to the stored state

// The index of the block a key belongs to: the last whose label is not greater, or the first.
std::size_t block_of(const std::vector<std::string>& labels, std::string_view key) {
    auto after = std::upper_bound(
        labels.begin(), labels.end(), key,
        [](std::string_view k, const std::string& label) { return k < std::string_view(label); });
    return after == labels.begin() ? 0 : static_cast<std::size_t>(after - labels.begin()) - 1;
}

bool is_row_change(const json::value& change) {
    auto* object = change.if_object();
    return object && !object->contains("set") && !object->contains("unset");
}

// The keys of every row a row change names, as apply_changes computes them; entries it
// will refuse (not objects, keys of the wrong size) are left to it.
std::vector<std::string> named_keys(const row_section& section, const json::object& change) {
    std::vector<std::string> keys;
    for (auto list : {"added", "changed"}) {
        auto* rows = change.if_contains(list);
        if (!rows || !rows->is_array()) continue;
        for (const auto& row : rows->get_array()) {
            if (row.is_object()) keys.push_back(row_key(section, row.get_object()));
        }
    }
    if (auto* removed = change.if_contains("removed"); removed && removed->is_array()) {
        for (const auto& key : removed->get_array()) {
            if (key.is_array() && key.get_array().size() == section.key_fields.size()) {
                keys.push_back(canonical_json(key));
            }
        }
    }
    return keys;
}

// A row section changed row by row: the blocks holding the named rows.
struct block_plan {
    std::vector<std::string> labels;  // every block of the section, in order
    std::set<std::size_t> loaded;     // the ones read (and to be rewritten)
};

json::array load_named_blocks(statement_cache& sql, std::string_view agent_id,
                              std::string_view name, const std::vector<std::string>& keys,
                              block_plan& plan) {
    plan.labels = load_labels(sql, agent_id, name);
    if (plan.labels.empty()) return {};
    for (const auto& key : keys) plan.loaded.insert(block_of(plan.labels, key));
    std::string joined;
    for (auto index : plan.loaded) {
        if (!joined.empty()) joined += ',';
        joined += load_block(sql, agent_id, name, plan.labels[index]);
    }
    return parse_rows(joined);
}

std::vector<row_text> row_texts_of(const row_section& section, const json::array& rows) {
    std::vector<row_text> texts;
    texts.reserve(rows.size());
    for (const auto& row : rows) {
        if (!row.is_object()) continue;
        texts.push_back({row_key(section, row.get_object()), canonical_json(row)});
    }
    return texts;
}

// Writes back the rewritten rows of the loaded blocks: each block keeps the rows whose key
// falls in it, is relabelled by its first key, cut again when it grew past max_block_bytes and
// deleted when empty. Rows of a section that had no block make new blocks.
void rewrite_blocks(statement_cache& sql, std::string_view agent_id, std::string_view name,
                    const block_plan& plan, std::vector<row_text> rows) {
    if (plan.labels.empty()) {
        if (!rows.empty()) put_rows(sql, agent_id, name, rows);
        return;
    }
    std::map<std::size_t, std::vector<row_text>> blocks;
    for (auto index : plan.loaded) blocks[index];
    for (auto& row : rows) {
        auto index = block_of(plan.labels, row.key);
        // Every key of the result was named, or was in a block read: its block was loaded.
        if (!plan.loaded.contains(index))
            throw std::logic_error("stored state: row outside the blocks read");
        blocks[index].push_back(std::move(row));
    }
    for (const auto& [index, block] : blocks) {
        const auto& label = plan.labels[index];
        if (block.empty() || block.front().key != label) delete_block(sql, agent_id, name, label);
        if (!block.empty()) put_rows(sql, agent_id, name, block);
    }
}

section_text text_of(std::string_view name, const json::value& value) {
    section_text text;
    auto* section = find_row_section(name);
    if (section && value.is_array()) {
        text.rows = true;
        text.row_texts = row_texts_of(*section, value.get_array());
    } else {
        text.value = canonical_json(value);
    }
    return text;
}

// Reads what the changes need: a section named row by row, the blocks holding its rows;
// any other, its whole value.
json::object load_base(statement_cache& sql, std::string_view agent_id, const json::object& changes,
                       std::map<std::string, block_plan, std::less<>>& plans) {
    json::object base;
    for (const auto& member : changes) {
        auto name = member.key();
        auto kind = load_kind(sql, agent_id, name);
        if (!kind.present) continue;
        if (kind.value) {
            base[name] = json::parse(*kind.value);
            continue;
        }
        auto* section = find_row_section(name);
        if (section && is_row_change(member.value())) {
            auto keys = named_keys(*section, member.value().get_object());
            base[name] = load_named_blocks(sql, agent_id, name, keys, plans[std::string(name)]);
        } else {
            base[name] = load_all_rows(sql, agent_id, name);
        }
    }
    return base;
}

// The state of schema version 1: every section's canonical JSON, gzip-compressed.
state_texts load_compressed_state(statement_cache& sql, const std::string& agent_id) {
    // A stored section is our own output; this only stops a damaged file exhausting memory.
    constexpr std::size_t max_section_bytes = 512u << 20;
    state_texts texts;
    auto select = sql("SELECT section, body FROM agent_state_sections WHERE agent_id = ?1");
    select->bind(1, agent_id);
    while (select->step()) {
        auto name = select->column_text(0);
        auto canonical = gzip_decompress(select->column_blob(1), max_section_bytes);
        if (!canonical) {
            throw std::runtime_error("stored state of agent " + agent_id + ", section " + name +
                                     ": " + canonical.error().message());
        }
        texts.emplace(name, text_of(name, json::parse(*canonical)));
    }
    return texts;
}

void convert_agents(statement_cache& sql) {
    std::vector<std::string> agents;
    {
        auto select = sql("SELECT DISTINCT agent_id FROM agent_state_sections");
        while (select->step()) agents.push_back(select->column_text(0));
    }
    for (const auto& agent_id : agents) {
        try {
            replace_state(sql, agent_id, load_compressed_state(sql, agent_id));
        } catch (const sqlite_error&) {
            throw;
        } catch (const std::exception& error) {
            // Only a damaged file has such a state; the agent's next delta is answered with
            // a resync, and its full report stores a good one.
            get_logger("store")->warn("{}; dropped, the agent will send a full report",
                                      error.what());
            auto forget = sql("DELETE FROM agent_states WHERE agent_id = ?1");
            forget->bind(1, agent_id);
            forget->step();
        }
    }
}

}  // namespace

// ----------------------------------------------------------------------------------------

state_texts texts_of(const json::object& state) {
    state_texts texts;
    for (const auto& member : state) {
        texts.emplace(std::string(member.key()), text_of(member.key(), member.value()));
    }
    return texts;
}

namespace {

// make_state's order of one section's rows (by the canonical JSON of their key, the first of
// each key, objects only), with their texts.
void order_rows(const row_section& section, const json::array& rows, row_pointers& pointers,
                std::vector<row_text>& texts) {
    struct keyed_row {
        std::string key;
        const json::value* row;  // an object; as a value, so its text is written without a copy
    };
    std::vector<keyed_row> keyed;
    keyed.reserve(rows.size());
    for (const auto& row : rows) {
        if (row.is_object()) keyed.push_back({row_key(section, row.get_object()), &row});
    }
    std::stable_sort(keyed.begin(), keyed.end(),
                     [](const keyed_row& a, const keyed_row& b) { return a.key < b.key; });
    keyed.erase(std::unique(keyed.begin(), keyed.end(),
                            [](const keyed_row& a, const keyed_row& b) { return a.key == b.key; }),
                keyed.end());
    pointers.reserve(keyed.size());
    texts.reserve(keyed.size());
    for (auto& entry : keyed) {
        pointers.push_back(&entry.row->get_object());
        texts.push_back({std::move(entry.key), canonical_json(*entry.row)});
    }
}

}  // namespace

full_state::full_state(const json::object& inventory) {
    // make_state copies what it strips; the other row sections are read where they lie.
    json::object copied;
    std::vector<std::pair<std::string_view, const json::array*>> referenced;
    for (const auto& member : inventory) {
        if (find_row_section(member.key()) && member.value().is_array() &&
            !has_volatile_fields(member.key())) {
            referenced.emplace_back(member.key(), &member.value().get_array());
        } else {
            copied[member.key()] = member.value();
        }
    }
    values_ = make_state(copied);
    for (const auto& member : values_) {
        section_text text;
        auto* section = find_row_section(member.key());
        if (section && member.value().is_array()) {
            text.rows = true;
            order_rows(*section, member.value().get_array(), rows_[member.key()], text.row_texts);
        } else {
            text.value = canonical_json(member.value());
        }
        texts_.emplace(std::string(member.key()), std::move(text));
    }
    for (auto [name, rows] : referenced) {
        section_text text;
        text.rows = true;
        order_rows(*find_row_section(name), *rows, rows_[std::string(name)], text.row_texts);
        by_reference_.emplace_back(name);
        texts_.emplace(std::string(name), std::move(text));
    }
}

json::object full_state::every() const {
    json::object state = values_;
    for (const auto& name : by_reference_) {
        json::array rows;
        const auto& pointers = rows_.find(name)->second;
        rows.reserve(pointers.size());
        for (const auto* row : pointers) rows.push_back(*row);
        state[name] = std::move(rows);
    }
    return state;
}

std::string state_hash_of(const state_texts& texts) {
    state_hasher hasher;
    for (const auto& [name, text] : texts) {
        if (!text.rows) {
            hasher.value_section(name, text.value);
            continue;
        }
        hasher.begin_rows(name);
        for (const auto& row : text.row_texts) hasher.rows_part(row.text);
        hasher.end_rows();
    }
    return hasher.finish();
}

std::string stored_state_hash(statement_cache& sql, std::string_view agent_id) {
    state_hasher hasher;
    for (const auto& [name, value] : load_sections(sql, agent_id)) {
        if (value) {
            hasher.value_section(name, *value);
            continue;
        }
        hasher.begin_rows(name);
        for_each_block(sql, agent_id, name, [&](std::string_view body) { hasher.rows_part(body); });
        hasher.end_rows();
    }
    return hasher.finish();
}

std::optional<state_header> load_state_header(statement_cache& sql, std::string_view agent_id) {
    auto select = sql("SELECT seq, state_hash FROM agent_states WHERE agent_id = ?1");
    select->bind(1, agent_id);
    if (!select->step()) return std::nullopt;
    return state_header{select->column_int64(0), select->column_text(1)};
}

void write_state_header(statement_cache& sql, std::string_view agent_id,
                        const state_header& header) {
    auto upsert =
        sql("INSERT INTO agent_states (agent_id, seq, state_hash) VALUES (?1, ?2, ?3) "
            "ON CONFLICT (agent_id) DO UPDATE SET seq = excluded.seq, "
            "state_hash = excluded.state_hash");
    upsert->bind(1, agent_id);
    upsert->bind(2, header.seq);
    upsert->bind(3, header.state_hash);
    upsert->step();
}

void replace_state(statement_cache& sql, std::string_view agent_id, const state_texts& texts) {
    for (auto table : {"agent_state_values", "agent_state_blocks"}) {
        auto remove = sql("DELETE FROM " + std::string(table) + " WHERE agent_id = ?1");
        remove->bind(1, agent_id);
        remove->step();
    }
    for (const auto& [name, text] : texts) put_section(sql, agent_id, name, text);
}

json::object load_state(statement_cache& sql, std::string_view agent_id) {
    json::object state;
    for (const auto& [name, value] : load_sections(sql, agent_id)) {
        state[name] = value ? json::parse(*value) : json::value(load_all_rows(sql, agent_id, name));
    }
    return state;
}

boost::system::result<applied_changes> apply_stored_changes(statement_cache& sql,
                                                            std::string_view agent_id,
                                                            const json::object& changes) {
    std::map<std::string, block_plan, std::less<>> plans;
    json::object base;
    try {
        base = load_base(sql, agent_id, changes, plans);
    } catch (const std::invalid_argument&) {
        // A row key with a floating point number, which apply_changes refuses too.
        return make_error_code(changes_errc::floating_point_number);
    }
    auto applied = apply_changes(base, changes);
    if (!applied) return applied.error();
    for (const auto& member : changes) {
        auto name = member.key();
        auto* value = applied->if_contains(name);
        if (auto plan = plans.find(name); plan != plans.end() && value && value->is_array()) {
            rewrite_blocks(sql, agent_id, name, plan->second,
                           row_texts_of(*find_row_section(name), value->get_array()));
            continue;
        }
        delete_section(sql, agent_id, name);
        if (value) put_section(sql, agent_id, name, text_of(name, *value));
    }
    return applied_changes{std::move(base), std::move(*applied)};
}

void convert_compressed_states(sqlite_database& db) {
    {
        // Its statements are finalized before the table they read is dropped.
        statement_cache sql(db);
        convert_agents(sql);
    }
    db.exec("DROP TABLE agent_state_sections");
}

}  // namespace muster::collector
