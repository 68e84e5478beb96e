#include "collector/history.h"

#include "common/canonical_json.h"
#include "common/inventory_state.h"
#include "common/version_compare.h"

#include <map>
#include <set>

namespace muster::collector {

namespace json = boost::json;

namespace {

std::optional<std::string> text_of(const json::value* value) {
    if (!value) return std::nullopt;
    if (value->is_string()) return std::string(value->get_string());
    if (value->is_null()) return std::nullopt;
    return json::serialize(*value);
}

// ----------------------------------------------------------------------------------------
// Row sections

using rows_by_key = std::map<std::string, const json::object*>;

std::string key_text(const row_section& section, const json::object& row) {
    std::string key;
    for (auto field : section.key_fields) {
        if (!key.empty()) key += '/';
        auto text = text_of(row.if_contains(field));
        key += text ? *text : "";
    }
    return key;
}

// The keys of the rows a change names, or nullopt when it names no rows (a "set" or
// "unset" replaces the section, so every row has to be compared).
using key_set = std::set<std::string, std::less<>>;

std::optional<key_set> keys_named_by(const row_section& section, const json::value& change) {
    auto* object = change.if_object();
    if (!object || object->contains("set") || object->contains("unset")) return std::nullopt;
    key_set keys;
    for (auto list : {"added", "changed"}) {
        auto* rows = object->if_contains(list);
        if (!rows || !rows->is_array()) continue;
        for (const auto& row : rows->get_array()) {
            if (row.is_object()) keys.insert(key_text(section, row.get_object()));
        }
    }
    if (auto* removed = object->if_contains("removed"); removed && removed->is_array()) {
        for (const auto& key : removed->get_array()) {
            if (!key.is_array()) continue;
            std::string text;
            for (const auto& part : key.get_array()) {
                if (!text.empty()) text += '/';  // as key_text joins them
                text += text_of(&part).value_or("");
            }
            keys.insert(std::move(text));
        }
    }
    return keys;
}

// The rows by key; with only_keys, just those rows (a delta names the few that changed:
// comparing the rest would find nothing).
rows_by_key index_rows(const row_section& section, const json::value* rows,
                       const std::optional<key_set>& only_keys) {
    rows_by_key index;
    if (!rows || !rows->is_array()) return index;
    for (const auto& row : rows->get_array()) {
        if (!row.is_object()) continue;
        auto key = key_text(section, row.get_object());
        if (!only_keys || only_keys->contains(key))
            index.emplace(std::move(key), &row.get_object());
    }
    return index;
}

void describe_software_change(const json::object& before, const json::object& after,
                              const std::string& key, std::vector<change_record>& out) {
    auto old_version = text_of(before.if_contains("version"));
    auto new_version = text_of(after.if_contains("version"));
    if (old_version != new_version) {
        auto source = text_of(after.if_contains("source")).value_or("");
        int order = compare_versions(source, old_version.value_or(""), new_version.value_or(""));
        out.push_back({"software", key,
                       order < 0   ? "upgraded"
                       : order > 0 ? "downgraded"
                                   : "changed",
                       old_version, new_version});
    }
}

void describe_row_fields(std::string_view section, const json::object& before,
                         const json::object& after, const std::string& key,
                         std::vector<change_record>& out) {
    std::set<std::string_view> fields;
    for (const auto& member : before) fields.insert(member.key());
    for (const auto& member : after) fields.insert(member.key());
    for (auto field : fields) {
        if (section == "software" && field == "version") continue;
        auto* old_value = before.if_contains(field);
        auto* new_value = after.if_contains(field);
        if (old_value && new_value && *old_value == *new_value) continue;
        out.push_back({std::string(section), key + "." + std::string(field), "changed",
                       text_of(old_value), text_of(new_value)});
    }
}

// What a row is called in a record: the software version, or the whole row.
std::optional<std::string> row_summary(std::string_view section, const json::object& row) {
    if (section == "software") return text_of(row.if_contains("version"));
    return canonical_json(row);
}

void describe_rows(const row_section& section, const json::value* old_rows,
                   const json::value* new_rows, const std::optional<key_set>& only_keys,
                   std::vector<change_record>& out) {
    auto before = index_rows(section, old_rows, only_keys);
    auto after = index_rows(section, new_rows, only_keys);
    bool software = section.name == "software";
    std::string name(section.name);
    for (const auto& [key, row] : after) {
        auto found = before.find(key);
        if (found == before.end()) {
            out.push_back({name, key, software ? "installed" : "added", std::nullopt,
                           row_summary(section.name, *row)});
        } else if (*found->second != *row) {
            if (software) describe_software_change(*found->second, *row, key, out);
            describe_row_fields(section.name, *found->second, *row, key, out);
        }
    }
    for (const auto& [key, row] : before) {
        if (!after.contains(key)) {
            out.push_back({name, key, "removed", row_summary(section.name, *row), std::nullopt});
        }
    }
}

// ----------------------------------------------------------------------------------------
// Network: interfaces by name, addresses by interface and address.

using interfaces_by_name = std::map<std::string, const json::object*>;

interfaces_by_name index_interfaces(const json::value* network) {
    interfaces_by_name index;
    if (!network || !network->is_object()) return index;
    auto* interfaces = network->get_object().if_contains("interfaces");
    if (!interfaces || !interfaces->is_array()) return index;
    for (const auto& item : interfaces->get_array()) {
        if (!item.is_object()) continue;
        auto name = text_of(item.get_object().if_contains("name"));
        if (name) index.emplace(*name, &item.get_object());
    }
    return index;
}

std::set<std::string> addresses_of(const json::object* interface) {
    std::set<std::string> addresses;
    if (!interface) return addresses;
    auto* list = interface->if_contains("addresses");
    if (!list || !list->is_array()) return addresses;
    for (const auto& item : list->get_array()) {
        if (!item.is_object()) continue;
        auto address = text_of(item.get_object().if_contains("address"));
        auto prefix = text_of(item.get_object().if_contains("prefix"));
        if (address) addresses.insert(*address + (prefix ? "/" + *prefix : ""));
    }
    return addresses;
}

void describe_network(const json::value* old_network, const json::value* new_network,
                      std::vector<change_record>& out) {
    auto before = index_interfaces(old_network);
    auto after = index_interfaces(new_network);
    std::set<std::string> names;
    for (const auto& entry : before) names.insert(entry.first);
    for (const auto& entry : after) names.insert(entry.first);
    for (const auto& name : names) {
        auto* old_interface = before.contains(name) ? before.at(name) : nullptr;
        auto* new_interface = after.contains(name) ? after.at(name) : nullptr;
        if (!old_interface) {
            out.push_back({"interfaces", name, "added", std::nullopt,
                           text_of(new_interface->if_contains("mac"))});
        } else if (!new_interface) {
            out.push_back({"interfaces", name, "removed",
                           text_of(old_interface->if_contains("mac")), std::nullopt});
        } else {
            json::object old_fields = *old_interface;
            json::object new_fields = *new_interface;
            old_fields.erase("addresses");
            new_fields.erase("addresses");
            describe_row_fields("interfaces", old_fields, new_fields, name, out);
        }
        auto old_addresses = addresses_of(old_interface);
        auto new_addresses = addresses_of(new_interface);
        for (const auto& address : new_addresses) {
            if (!old_addresses.contains(address)) {
                out.push_back({"addresses", name, "added", std::nullopt, address});
            }
        }
        for (const auto& address : old_addresses) {
            if (!new_addresses.contains(address)) {
                out.push_back({"addresses", name, "removed", address, std::nullopt});
            }
        }
    }
    // The rest of the section (gateways, DNS servers) as attributes.
    json::object old_rest =
        old_network && old_network->is_object() ? old_network->get_object() : json::object();
    json::object new_rest =
        new_network && new_network->is_object() ? new_network->get_object() : json::object();
    old_rest.erase("interfaces");
    new_rest.erase("interfaces");
    describe_row_fields("network", old_rest, new_rest, "network", out);
}

// ----------------------------------------------------------------------------------------
// Value sections: one record per changed attribute path.

void describe_value(const std::string& section, const std::string& path,
                    const json::value* old_value, const json::value* new_value,
                    std::vector<change_record>& out) {
    bool both_objects = old_value && new_value && old_value->is_object() && new_value->is_object();
    if (!both_objects) {
        if (old_value && new_value && *old_value == *new_value) return;
        std::string change = section == "system" && path == "hostname" ? "renamed" : "changed";
        out.push_back({section, path, change, text_of(old_value), text_of(new_value)});
        return;
    }
    std::set<std::string_view> fields;
    for (const auto& member : old_value->get_object()) fields.insert(member.key());
    for (const auto& member : new_value->get_object()) fields.insert(member.key());
    for (auto field : fields) {
        std::string child = path.empty() ? std::string(field) : path + "." + std::string(field);
        describe_value(section, child, old_value->get_object().if_contains(field),
                       new_value->get_object().if_contains(field), out);
    }
}

}  // namespace

std::vector<change_record> describe_changes(const json::object& old_sections,
                                            const json::object& new_sections,
                                            const json::object& changed) {
    std::vector<change_record> records;
    for (const auto& member : changed) {
        std::string name(member.key());
        auto* old_value = old_sections.if_contains(name);
        auto* new_value = new_sections.if_contains(name);
        if (auto* section = find_row_section(name)) {
            describe_rows(*section, old_value, new_value, keys_named_by(*section, member.value()),
                          records);
        } else if (name == "network") {
            describe_network(old_value, new_value, records);
        } else {
            describe_value(name, "", old_value, new_value, records);
        }
    }
    return records;
}

void write_history(statement_cache& sql, const history_origin& origin,
                   const std::vector<change_record>& records) {
    auto insert =
        sql("INSERT INTO ci_history (ci_id, time, section, key, change, old_value, new_value, "
            "agent_id, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    for (const auto& record : records) {
        (*insert).reset();
        insert->bind(1, origin.ci_id);
        insert->bind(2, origin.time);
        insert->bind(3, record.section);
        insert->bind(4, record.key);
        insert->bind(5, record.change);
        if (record.old_value) {
            insert->bind(6, *record.old_value);
        } else {
            insert->bind(6, nullptr);
        }
        if (record.new_value) {
            insert->bind(7, *record.new_value);
        } else {
            insert->bind(7, nullptr);
        }
        insert->bind(8, origin.agent_id);
        insert->bind(9, origin.seq);
        insert->step();
    }
}

}  // namespace muster::collector
