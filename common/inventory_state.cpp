#include "common/inventory_state.h"

#include "common/canonical_json.h"
#include "common/crypto.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace muster {

namespace json = boost::json;

namespace {

// ----------------------------------------------------------------------------------------
// What the state is made of (docs/protocol.md, "The state").

constexpr std::string_view software_key[] = {"source", "name", "arch"};
constexpr std::string_view disks_key[] = {"name"};
constexpr std::string_view filesystems_key[] = {"mountpoint"};
constexpr std::string_view services_key[] = {"name"};
constexpr std::string_view listening_ports_key[] = {"protocol", "address", "port"};
constexpr std::string_view users_key[] = {"name"};

constexpr row_section row_section_table[] = {
    {"software", software_key},
    {"disks", disks_key},
    {"filesystems", filesystems_key},
    {"services", services_key},
    {"listening_ports", listening_ports_key},
    {"users", users_key},
};

// Fields that change on every run; in a row section they are removed from every row.
struct volatile_field {
    std::string_view section;
    std::string_view field;
};
constexpr volatile_field volatile_fields[] = {
    {"system", "uptime_seconds"},
    {"cpu", "mhz"},  // the current clock, which frequency scaling moves
    {"memory", "available_bytes"},
    {"memory", "swap_free_bytes"},
    {"filesystems", "free_bytes"},
};

// Not part of the state at all.
constexpr std::string_view excluded_section = "errors";

// ----------------------------------------------------------------------------------------
// Rows and keys

// Rows by the canonical JSON of their key. std::string compares as unsigned bytes, so the
// map's order is the order of the state.
using keyed_rows = std::map<std::string, json::value, std::less<>>;

std::string row_key(const row_section& section, const json::object& row) {
    std::string key = "[";
    for (std::size_t i = 0; i < section.key_fields.size(); ++i) {
        if (i != 0) key += ',';
        auto* field = row.if_contains(section.key_fields[i]);
        if (field) {
            append_canonical_json(key, *field);
        } else {
            key += "null";
        }
    }
    key += ']';
    return key;
}

json::array key_array(const row_section& section, const json::object& row) {
    json::array key;
    key.reserve(section.key_fields.size());
    for (auto field : section.key_fields) {
        auto* value = row.if_contains(field);
        key.push_back(value ? *value : json::value(nullptr));
    }
    return key;
}

// Keeps the first row of each key, as the protocol says; rows that are not objects have no
// key and cannot be part of a state.
keyed_rows key_rows(const row_section& section, json::array rows) {
    keyed_rows keyed;
    for (auto& row : rows) {
        if (!row.is_object()) continue;
        keyed.try_emplace(row_key(section, row.get_object()), std::move(row));
    }
    return keyed;
}

json::array rows_array(keyed_rows keyed) {
    json::array rows;
    rows.reserve(keyed.size());
    for (auto& entry : keyed) rows.push_back(std::move(entry.second));
    return rows;
}

// Non-owning view of a state's rows, for comparing two states without copying them.
std::map<std::string, const json::object*> index_rows(const row_section& section,
                                                      const json::array& rows) {
    std::map<std::string, const json::object*> index;
    for (const auto& row : rows) {
        if (row.is_object()) {
            index.try_emplace(row_key(section, row.get_object()), &row.get_object());
        }
    }
    return index;
}

// ----------------------------------------------------------------------------------------
// Making a state

void strip_volatile_fields(std::string_view name, json::value& section) {
    for (const auto& field : volatile_fields) {
        if (field.section != name) continue;
        if (auto* object = section.if_object()) object->erase(field.field);
        if (auto* rows = section.if_array()) {
            for (auto& row : *rows) {
                if (auto* object = row.if_object()) object->erase(field.field);
            }
        }
    }
}

// The state form of one section's value; nullopt when the section is not part of the state.
std::optional<json::value> state_section(std::string_view name, json::value value) {
    if (name == excluded_section) return std::nullopt;
    strip_volatile_fields(name, value);
    auto* section = find_row_section(name);
    if (section && value.is_array()) {
        value = rows_array(key_rows(*section, std::move(value.get_array())));
    }
    return value;
}

// ----------------------------------------------------------------------------------------
// Computing changes

json::object diff_rows(const row_section& section, const json::array& old_rows,
                       const json::array& new_rows) {
    auto before = index_rows(section, old_rows);
    auto after = index_rows(section, new_rows);
    json::array added, changed, removed;
    auto b = before.begin();
    auto a = after.begin();
    while (b != before.end() || a != after.end()) {
        if (a == after.end() || (b != before.end() && b->first < a->first)) {
            removed.push_back(key_array(section, *b->second));
            ++b;
        } else if (b == before.end() || a->first < b->first) {
            added.push_back(*a->second);
            ++a;
        } else {
            if (*a->second != *b->second) changed.push_back(*a->second);
            ++a;
            ++b;
        }
    }
    json::object diff;
    if (!added.empty()) diff["added"] = std::move(added);
    if (!changed.empty()) diff["changed"] = std::move(changed);
    if (!removed.empty()) diff["removed"] = std::move(removed);
    return diff;
}

std::set<std::string_view> section_names(const json::object& a, const json::object& b) {
    std::set<std::string_view> names;
    for (const auto& member : a) names.insert(member.key());
    for (const auto& member : b) names.insert(member.key());
    return names;
}

// ----------------------------------------------------------------------------------------
// Applying changes

using boost::system::error_code;

class changes_category_impl : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "muster.changes"; }
    std::string message(int code) const override {
        switch (static_cast<changes_errc>(code)) {
            case changes_errc::changes_not_object:
                return "the changes are not a JSON object";
            case changes_errc::change_not_object:
                return "the change of a section is not a JSON object";
            case changes_errc::malformed_change:
                return "a change is empty, mixes \"set\"/\"unset\" with other members, or has an "
                       "\"unset\" other than true";
            case changes_errc::unknown_member:
                return "a change has a member other than set, unset, added, changed, removed";
            case changes_errc::not_a_row_section:
                return "row changes (added/changed/removed) for a section that is not a row "
                       "section";
            case changes_errc::section_not_rows:
                return "row changes for a section that is absent or not an array in the base "
                       "state";
            case changes_errc::section_absent:
                return "\"unset\" of a section absent from the base state";
            case changes_errc::wrong_type:
                return "added/changed/removed is not an array, a row is not an object, or a "
                       "removed key is not an array of the section's key fields";
            case changes_errc::key_not_present:
                return "a removed or changed row's key is not in the base state";
            case changes_errc::key_already_present:
                return "an added row's key is already in the base state";
            case changes_errc::duplicate_key:
                return "a row key appears more than once in one section's changes";
            case changes_errc::floating_point_number:
                return "the changes contain a floating point number, which no state can hold";
        }
        return "unknown changes error";
    }
};

// Iterative, so that no input can exhaust the stack here.
bool contains_double(const json::object& root) {
    std::vector<const json::value*> pending;
    for (const auto& member : root) pending.push_back(&member.value());
    while (!pending.empty()) {
        const json::value* value = pending.back();
        pending.pop_back();
        if (value->is_double()) return true;
        if (auto* array = value->if_array()) {
            for (const auto& element : *array) pending.push_back(&element);
        } else if (auto* object = value->if_object()) {
            for (const auto& member : *object) pending.push_back(&member.value());
        }
    }
    return false;
}

error_code apply_value_change(json::object& state, std::string_view name,
                              const json::object& change) {
    if (change.size() != 1) return changes_errc::malformed_change;
    if (auto* unset = change.if_contains("unset")) {
        if (*unset != json::value(true)) return changes_errc::malformed_change;
        if (state.erase(name) == 0) return changes_errc::section_absent;
        return {};
    }
    auto value = state_section(name, change.at("set"));
    if (value) {
        state[name] = std::move(*value);
    } else {
        state.erase(name);
    }
    return {};
}

// Checks one list of a row change and hands back its elements.
error_code row_list(const json::object& change, std::string_view member, const json::array*& list) {
    static const json::array empty;
    list = &empty;
    auto* value = change.if_contains(member);
    if (!value) return {};
    if (!value->is_array()) return changes_errc::wrong_type;
    list = &value->get_array();
    return {};
}

// A removed entry is the array of the key fields; its canonical JSON is the row key.
error_code removed_key(const row_section& section, const json::value& entry, std::string& key) {
    auto* fields = entry.if_array();
    if (!fields || fields->size() != section.key_fields.size()) return changes_errc::wrong_type;
    key = canonical_json(entry);
    return {};
}

class row_change_applier {
  public:
    row_change_applier(const row_section& section, keyed_rows& rows)
        : section_(section), rows_(rows) {}

    error_code remove(const json::value& entry) {
        std::string key;
        if (auto ec = removed_key(section_, entry, key)) return ec;
        if (auto ec = touch(key)) return ec;
        if (rows_.erase(key) == 0) return changes_errc::key_not_present;
        return {};
    }

    error_code change(const json::value& row) {
        if (!row.is_object()) return changes_errc::wrong_type;
        auto key = row_key(section_, row.get_object());
        if (auto ec = touch(key)) return ec;
        auto found = rows_.find(key);
        if (found == rows_.end()) return changes_errc::key_not_present;
        found->second = row;
        return {};
    }

    error_code add(const json::value& row) {
        if (!row.is_object()) return changes_errc::wrong_type;
        auto key = row_key(section_, row.get_object());
        if (auto ec = touch(key)) return ec;
        if (!rows_.try_emplace(std::move(key), row).second) {
            return changes_errc::key_already_present;
        }
        return {};
    }

  private:
    // One key, one operation: "remove then add" of a key is a change, and must say so.
    error_code touch(const std::string& key) {
        if (!touched_.insert(key).second) return changes_errc::duplicate_key;
        return {};
    }

    const row_section& section_;
    keyed_rows& rows_;
    std::set<std::string, std::less<>> touched_;
};

error_code check_row_change_members(const json::object& change) {
    if (change.empty()) return changes_errc::malformed_change;
    for (const auto& member : change) {
        auto key = member.key();
        if (key != "added" && key != "changed" && key != "removed") {
            return changes_errc::unknown_member;
        }
    }
    return {};
}

error_code apply_row_change(json::object& state, std::string_view name,
                            const json::object& change) {
    if (auto ec = check_row_change_members(change)) return ec;
    auto* section = find_row_section(name);
    if (!section) return changes_errc::not_a_row_section;
    const json::array *added = nullptr, *changed = nullptr, *removed = nullptr;
    if (auto ec = row_list(change, "added", added)) return ec;
    if (auto ec = row_list(change, "changed", changed)) return ec;
    if (auto ec = row_list(change, "removed", removed)) return ec;
    auto* current = state.if_contains(name);
    if (!current || !current->is_array()) return changes_errc::section_not_rows;

    auto rows = key_rows(*section, std::move(current->get_array()));
    row_change_applier applier(*section, rows);
    for (const auto& entry : *removed) {
        if (auto ec = applier.remove(entry)) return ec;
    }
    for (const auto& row : *changed) {
        if (auto ec = applier.change(row)) return ec;
    }
    for (const auto& row : *added) {
        if (auto ec = applier.add(row)) return ec;
    }
    *current = rows_array(std::move(rows));
    strip_volatile_fields(name, *current);
    return {};
}

error_code apply_section_change(json::object& state, std::string_view name,
                                const json::value& change) {
    auto* object = change.if_object();
    if (!object) return changes_errc::change_not_object;
    if (object->contains("set") || object->contains("unset")) {
        return apply_value_change(state, name, *object);
    }
    return apply_row_change(state, name, *object);
}

}  // namespace

// ----------------------------------------------------------------------------------------

std::span<const row_section> row_sections() {
    return row_section_table;
}

const row_section* find_row_section(std::string_view name) {
    for (const auto& section : row_section_table) {
        if (section.name == name) return &section;
    }
    return nullptr;
}

bool has_volatile_fields(std::string_view section) {
    return std::any_of(std::begin(volatile_fields), std::end(volatile_fields),
                       [&](const volatile_field& field) { return field.section == section; });
}

json::object make_state(const json::object& inventory) {
    json::object state;
    state.reserve(inventory.size());
    for (const auto& member : inventory) {
        auto value = state_section(member.key(), member.value());
        if (value) state[member.key()] = std::move(*value);
    }
    return state;
}

std::string state_hash(const json::object& state) {
    return sha256_hex(canonical_json(state));
}

json::object compute_changes(const json::object& old_state, const json::object& new_state) {
    json::object changes;
    for (auto name : section_names(old_state, new_state)) {
        const auto* before = old_state.if_contains(name);
        const auto* after = new_state.if_contains(name);
        const auto* section = find_row_section(name);
        if (section && before && after && before->is_array() && after->is_array()) {
            auto diff = diff_rows(*section, before->get_array(), after->get_array());
            if (!diff.empty()) changes[name] = std::move(diff);
        } else if (!after) {
            changes[name] = json::object{{"unset", true}};
        } else if (!before || *before != *after) {
            changes[name] = json::object{{"set", *after}};
        }
    }
    return changes;
}

const boost::system::error_category& changes_category() {
    static const changes_category_impl category;
    return category;
}

boost::system::error_code make_error_code(changes_errc e) {
    return {static_cast<int>(e), changes_category()};
}

boost::system::result<json::object> apply_changes(const json::object& base_state,
                                                  const json::object& changes) {
    // Checked first so that no row key below can meet a number canonical JSON refuses.
    if (contains_double(changes)) return make_error_code(changes_errc::floating_point_number);
    json::object state = base_state;
    for (const auto& member : changes) {
        if (auto ec = apply_section_change(state, member.key(), member.value())) return ec;
    }
    return state;
}

boost::system::result<json::object> apply_changes(const json::object& base_state,
                                                  const json::value& changes) {
    auto* object = changes.if_object();
    if (!object) return make_error_code(changes_errc::changes_not_object);
    return apply_changes(base_state, *object);
}

}  // namespace muster
