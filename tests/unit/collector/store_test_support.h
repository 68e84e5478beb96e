#pragma once
// Builders for the store tests: inventories with the identity fields reconciliation looks at,
// and reports made the way an agent makes them (docs/protocol.md).
#include "collector/store.h"
#include "common/crypto.h"
#include "common/inventory_state.h"

#include <boost/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace muster::test {

namespace json = boost::json;

struct host_facts {
    std::string hostname = "web-1";
    std::string product_uuid = "4c4c4544-0042-3510-8051-b7c04f4e4a32";
    std::string serial = "SN-12345";
    std::string machine_id = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    std::string mac = "52:54:00:12:34:56";
    std::string address = "10.0.0.5";
    std::string container = "none";
    std::vector<std::pair<std::string, std::string>> packages = {
        {"openssl", "3.0.11-1~deb12u2"}, {"bash", "5.2.15-2+b2"}, {"curl", "7.88.1-10"}};
};

inline json::value text_or_null(const std::string& text) {
    return text.empty() ? json::value(nullptr) : json::value(text);
}

inline json::object make_inventory(const host_facts& facts) {
    json::object inventory;
    inventory["schema_version"] = 1;
    inventory["system"] = json::object{{"hostname", text_or_null(facts.hostname)},
                                       {"fqdn", nullptr},
                                       {"machine_id", text_or_null(facts.machine_id)},
                                       {"boot_id", "b"},
                                       {"uptime_seconds", 1234},
                                       {"timezone", "UTC"},
                                       {"virtualization", "kvm"},
                                       {"container", text_or_null(facts.container)},
                                       {"tags", json::array{"web"}}};
    inventory["hardware"] = json::object{{"vendor", "QEMU"},
                                         {"product", "Standard PC"},
                                         {"serial", text_or_null(facts.serial)},
                                         {"product_uuid", text_or_null(facts.product_uuid)}};
    inventory["os"] = json::object{{"id", "debian"}, {"version_id", "12"}, {"arch", "x86_64"}};
    inventory["memory"] = json::object{{"total_bytes", 4096}, {"available_bytes", 100}};
    json::array addresses;
    if (!facts.address.empty()) {
        addresses.push_back(
            json::object{{"family", "inet"}, {"address", facts.address}, {"prefix", 24}});
    }
    inventory["network"] = json::object{
        {"interfaces",
         json::array{json::object{{"name", "lo"},
                                  {"mac", nullptr},
                                  {"type", "loopback"},
                                  {"addresses", json::array{json::object{{"family", "inet"},
                                                                         {"address", "127.0.0.1"},
                                                                         {"prefix", 8}}}}},
                     json::object{{"name", "eth0"},
                                  {"mac", text_or_null(facts.mac)},
                                  {"mtu", 1500},
                                  {"type", "physical"},
                                  {"addresses", addresses}}}},
        {"default_gateways", json::array{"10.0.0.1"}},
        {"dns_servers", json::array{}}};
    json::array software;
    for (const auto& [name, version] : facts.packages) {
        software.push_back(json::object{{"name", name},
                                        {"version", version},
                                        {"arch", "amd64"},
                                        {"source", "deb"},
                                        {"vendor", "Debian"},
                                        {"installed_at", "2024-01-01T00:00:00Z"},
                                        {"size_bytes", 1000}});
    }
    inventory["software"] = std::move(software);
    inventory["users"] = json::array{json::object{
        {"name", "root"}, {"uid", 0}, {"gid", 0}, {"home", "/root"}, {"shell", "/bin/bash"}}};
    inventory["errors"] = json::array{};
    return inventory;
}

inline collector::verified_report finish(std::string agent_id, json::object document) {
    collector::verified_report report;
    report.agent_id = std::move(agent_id);
    auto* seq = document["seq"].if_int64();
    report.seq = seq ? *seq : 0;
    report.sent_at = 1'700'000'000;
    report.body_sha256 = sha256_hex(json::serialize(document));
    report.document = std::move(document);
    return report;
}

inline collector::verified_report full_report(const std::string& agent_id, std::int64_t seq,
                                              const json::object& inventory) {
    json::object document{{"protocol", 1},
                          {"agent_id", agent_id},
                          {"seq", seq},
                          {"sent_at", 1'700'000'000},
                          {"kind", "full"},
                          {"base_seq", 0},
                          {"inventory", inventory}};
    document["state_hash"] = state_hash(make_state(inventory));
    return finish(agent_id, std::move(document));
}

inline collector::verified_report delta_report(const std::string& agent_id, std::int64_t seq,
                                               std::int64_t base_seq,
                                               const json::object& old_inventory,
                                               const json::object& new_inventory) {
    auto old_state = make_state(old_inventory);
    auto new_state = make_state(new_inventory);
    json::object document{{"protocol", 1},
                          {"agent_id", agent_id},
                          {"seq", seq},
                          {"sent_at", 1'700'000'000},
                          {"kind", "delta"},
                          {"base_seq", base_seq},
                          {"changes", compute_changes(old_state, new_state)},
                          {"state_hash", state_hash(new_state)}};
    return finish(agent_id, std::move(document));
}

inline collector::enrollment enrollment_for(const std::string& key_seed) {
    collector::enrollment request;
    request.public_key = sha256(key_seed);  // 32 bytes, stands in for an Ed25519 key
    return request;
}

}  // namespace muster::test
