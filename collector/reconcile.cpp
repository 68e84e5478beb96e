#include "collector/reconcile.h"

#include "common/placeholder.h"

#include <algorithm>
#include <cctype>
#include <tuple>

namespace muster::collector {

namespace json = boost::json;

namespace {

std::optional<std::string> string_member(const json::object& state, std::string_view section,
                                         std::string_view field) {
    auto* value = state.if_contains(section);
    if (!value || !value->is_object()) return std::nullopt;
    auto* member = value->get_object().if_contains(field);
    if (!member || !member->is_string()) return std::nullopt;
    return std::string(member->get_string());
}

std::optional<std::string> identity_field(const json::object& state, std::string_view section,
                                          std::string_view field) {
    auto text = string_member(state, section, field);
    if (!text) return std::nullopt;
    return identity_value(*text);
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

bool is_real_mac(std::string_view mac) {
    return mac.find_first_not_of("0:") != std::string_view::npos && !is_placeholder(mac);
}

}  // namespace

std::optional<std::string> primary_mac_of(const json::value* network) {
    if (!network || !network->is_object()) return std::nullopt;
    auto* interfaces = network->get_object().if_contains("interfaces");
    if (!interfaces || !interfaces->is_array()) return std::nullopt;
    std::optional<std::tuple<bool, std::string, std::string>> best;  // (not physical, name, mac)
    for (const auto& item : interfaces->get_array()) {
        if (!item.is_object()) continue;
        const auto& interface = item.get_object();
        auto* mac = interface.if_contains("mac");
        auto* name = interface.if_contains("name");
        auto* type = interface.if_contains("type");
        if (!mac || !mac->is_string() || !name || !name->is_string()) continue;
        if (type && type->is_string() && type->get_string() == "loopback") continue;
        if (!is_real_mac(mac->get_string())) continue;
        bool physical = type && type->is_string() && type->get_string() == "physical";
        std::tuple candidate(!physical, std::string(name->get_string()),
                             lower(std::string(mac->get_string())));
        if (!best || candidate < *best) best = std::move(candidate);
    }
    if (!best) return std::nullopt;
    return std::get<2>(*best);
}

host_identity identity_of(const json::object& state) {
    host_identity identity;
    auto container = string_member(state, "system", "container");
    identity.in_container = container && !container->empty() && *container != "none";
    if (!identity.in_container) {
        identity.product_uuid = identity_field(state, "hardware", "product_uuid");
        if (identity.product_uuid) identity.product_uuid = lower(*identity.product_uuid);
        identity.serial = identity_field(state, "hardware", "serial");
    }
    identity.machine_id = identity_field(state, "system", "machine_id");
    auto hostname = string_member(state, "system", "hostname");
    if (hostname) identity.hostname = descriptive_value(*hostname);
    identity.primary_mac = primary_mac_of(state.if_contains("network"));
    return identity;
}

std::string_view to_string(identity_rule rule) {
    switch (rule) {
        case identity_rule::product_uuid_serial:
            return "product_uuid+serial";
        case identity_rule::serial:
            return "serial";
        case identity_rule::machine_id:
            return "machine_id";
        case identity_rule::hostname_mac:
            return "hostname+primary_mac";
    }
    return "unknown";
}

bool is_identifiable(const host_identity& identity) {
    return identity.serial || identity.machine_id || (identity.hostname && identity.primary_mac);
}

namespace {

struct rule_query {
    identity_rule rule;
    std::string_view where;
    std::optional<std::string> first;
    std::optional<std::string> second;
};

bool still_reported_by_other(statement_cache& sql, std::int64_t ci_id,
                             const host_identity& identity, std::string_view agent_id,
                             std::int64_t enrolled_at, std::optional<std::string>& owner) {
    auto select =
        sql("SELECT cis.current_agent_id, cis.machine_id, cis.state, agents.status, "
            "agents.last_report_at FROM cis LEFT JOIN agents ON agents.agent_id = "
            "cis.current_agent_id WHERE cis.id = ?1");
    select->bind(1, ci_id);
    if (!select->step() || select->column_is_null(0)) return false;
    owner = select->column_text(0);
    if (*owner == agent_id) return false;
    std::optional<std::string> their_machine;
    if (!select->column_is_null(1)) their_machine = select->column_text(1);
    bool active = select->column_text(2) == "active" && select->column_text(3) == "active";
    bool reported_since = !select->column_is_null(4) && select->column_int64(4) >= enrolled_at;
    return active && reported_since && their_machine != identity.machine_id;
}

}  // namespace

std::optional<ci_match> find_matching_ci(statement_cache& sql, const host_identity& identity,
                                         std::string_view agent_id, std::int64_t enrolled_at) {
    const rule_query rules[] = {
        {identity_rule::product_uuid_serial, "product_uuid = ?1 AND serial = ?2",
         identity.product_uuid, identity.serial},
        {identity_rule::serial, "serial = ?1", identity.serial, std::string()},
        {identity_rule::machine_id, "machine_id = ?1", identity.machine_id, std::string()},
        {identity_rule::hostname_mac, "hostname = ?1 AND primary_mac = ?2", identity.hostname,
         identity.primary_mac},
    };
    for (const auto& rule : rules) {
        if (!rule.first || !rule.second) continue;
        // Prefer the CI that is still alive, then the one heard from last; a duplicate
        // (clone) CI never attracts a new agent while its original exists.
        auto select = sql("SELECT id FROM cis WHERE held = 0 AND " + std::string(rule.where) +
                          " ORDER BY duplicate_of IS NOT NULL, state = 'active' DESC, "
                          "last_seen DESC, id LIMIT 1");
        select->bind(1, *rule.first);
        if (!rule.second->empty()) select->bind(2, *rule.second);
        if (!select->step()) continue;
        ci_match match;
        match.ci_id = select->column_int64(0);
        match.rule = rule.rule;
        match.clone =
            still_reported_by_other(sql, match.ci_id, identity, agent_id, enrolled_at, match.owner);
        return match;
    }
    return std::nullopt;
}

}  // namespace muster::collector
