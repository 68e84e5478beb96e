#include "collector/agent_state.h"

#include "common/canonical_json.h"
#include "common/crypto.h"
#include "common/gzip.h"

#include <stdexcept>

namespace muster::collector {

namespace json = boost::json;

namespace {

// Level 1: the stored sections are rewritten on every changing report, and on this path
// compression time matters more than the last 15 % of space.
constexpr int compression_level = 1;
// A stored section is our own output; this only stops a damaged file from exhausting memory.
constexpr std::size_t max_section_bytes = 512u << 20;

std::string decompress_section(std::string_view agent_id, std::string_view name,
                               std::string_view body) {
    auto text = gzip_decompress(body, max_section_bytes);
    if (!text) {
        throw std::runtime_error("stored state of agent " + std::string(agent_id) + ", section " +
                                 std::string(name) + ": " + text.error().message());
    }
    return std::move(*text);
}

}  // namespace

std::optional<state_header> load_state_header(statement_cache& sql, std::string_view agent_id) {
    auto select = sql("SELECT seq, state_hash FROM agent_states WHERE agent_id = ?1");
    select->bind(1, agent_id);
    if (!select->step()) return std::nullopt;
    return state_header{select->column_int64(0), select->column_text(1)};
}

section_texts load_section_texts(statement_cache& sql, std::string_view agent_id) {
    section_texts texts;
    auto select = sql("SELECT section, body FROM agent_state_sections WHERE agent_id = ?1");
    select->bind(1, agent_id);
    while (select->step()) {
        auto name = select->column_text(0);
        auto text = decompress_section(agent_id, name, select->column_blob(1));
        texts.emplace(std::move(name), std::move(text));
    }
    return texts;
}

section_texts texts_of(const json::object& state) {
    section_texts texts;
    for (const auto& member : state) {
        texts.emplace(std::string(member.key()), canonical_json(member.value()));
    }
    return texts;
}

json::object parse_named_texts(const section_texts& texts,
                               const std::set<std::string, std::less<>>& names) {
    json::object sections;
    for (const auto& name : names) {
        if (auto found = texts.find(name); found != texts.end()) {
            sections[name] = json::parse(found->second);
        }
    }
    return sections;
}

json::object parse_texts(const section_texts& texts) {
    json::object state;
    for (const auto& [name, text] : texts) state[name] = json::parse(text);
    return state;
}

std::string state_hash_of(const section_texts& texts) {
    std::string canonical = "{";
    std::size_t size = 2;
    for (const auto& [name, text] : texts) size += name.size() + text.size() + 4;
    canonical.reserve(size);
    bool first = true;
    for (const auto& [name, text] : texts) {
        if (!first) canonical += ',';
        first = false;
        append_canonical_json(canonical, json::string(name));
        canonical += ':';
        canonical += text;
    }
    canonical += '}';
    return sha256_hex(canonical);
}

void write_state(statement_cache& sql, std::string_view agent_id, const state_header& header,
                 const std::map<std::string, std::optional<std::string>, std::less<>>& sections) {
    {
        auto upsert =
            sql("INSERT INTO agent_states (agent_id, seq, state_hash) VALUES (?1, ?2, ?3) "
                "ON CONFLICT (agent_id) DO UPDATE SET seq = excluded.seq, "
                "state_hash = excluded.state_hash");
        upsert->bind(1, agent_id);
        upsert->bind(2, header.seq);
        upsert->bind(3, header.state_hash);
        upsert->step();
    }
    auto put =
        sql("INSERT OR REPLACE INTO agent_state_sections (agent_id, section, body) "
            "VALUES (?1, ?2, ?3)");
    auto remove = sql("DELETE FROM agent_state_sections WHERE agent_id = ?1 AND section = ?2");
    for (const auto& [name, text] : sections) {
        auto& statement = text ? *put : *remove;
        statement.reset();
        statement.bind(1, agent_id);
        statement.bind(2, name);
        if (text) statement.bind_blob(3, gzip_compress(*text, compression_level));
        statement.step();
    }
}

void clear_state(statement_cache& sql, std::string_view agent_id) {
    auto remove = sql("DELETE FROM agent_state_sections WHERE agent_id = ?1");
    remove->bind(1, agent_id);
    remove->step();
}

}  // namespace muster::collector
