#include "common/inventory_state.h"
#include "common/canonical_json.h"
#include "common/crypto.h"

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

namespace json = boost::json;
using muster::apply_changes;
using muster::canonical_json;
using muster::changes_errc;
using muster::compute_changes;
using muster::make_state;
using muster::state_hash;

namespace {

json::object software_row(const std::string& name, const std::string& version,
                          const std::string& arch = "amd64", const std::string& source = "deb") {
    return {{"name", name},
            {"version", version},
            {"arch", arch},
            {"source", source},
            {"vendor", "Debian"},
            {"installed_at", "2024-05-01"},
            {"size_bytes", 1024 * static_cast<std::int64_t>(name.size())}};
}

json::object interface(const std::string& name, const std::string& address) {
    return {{"name", name},
            {"mac", "52:54:00:12:34:56"},
            {"mtu", 1500},
            {"state", "up"},
            {"speed_mbps", nullptr},
            {"type", "physical"},
            {"addresses",
             json::array{json::object{{"family", "inet"}, {"address", address}, {"prefix", 24}}}}};
}

// An inventory document shaped like the agent's, with `packages` deb packages.
json::object realistic_inventory(int packages) {
    json::array software;
    for (int i = 0; i < packages; ++i) {
        software.push_back(software_row("lib-package-" + std::to_string(i * 7919 % 1009),
                                        "1." + std::to_string(i % 13) + "-" + std::to_string(i % 5),
                                        i % 10 == 0 ? "all" : "amd64"));
    }
    software.push_back(software_row("firefox", "128.0", "x86_64", "flatpak"));
    json::array users;
    for (int uid : {0, 1, 2, 33, 65534, 1000}) {
        users.push_back(json::object{{"name", "user" + std::to_string(uid)},
                                     {"uid", uid},
                                     {"gid", uid},
                                     {"home", "/home/u" + std::to_string(uid)},
                                     {"shell", "/bin/bash"}});
    }
    return {
        {"schema_version", 1},
        {"system",
         {{"hostname", "web-1"},
          {"fqdn", "web-1.example.org"},
          {"machine_id", "0123456789abcdef0123456789abcdef"},
          {"boot_id", "b0b0"},
          {"uptime_seconds", 123456},
          {"timezone", "Europe/Paris"},
          {"virtualization", "kvm"},
          {"container", nullptr},
          {"tags", json::array{"prod", "web"}}}},
        {"hardware", nullptr},
        {"os", {{"id", "debian"}, {"version_id", "12"}, {"kernel_release", "6.1.0-18-amd64"}}},
        {"cpu", {{"model", "QEMU"}, {"logical_cores", 4}, {"mhz", nullptr}}},
        {"memory",
         {{"total_bytes", 8 << 20},
          {"available_bytes", 4 << 20},
          {"swap_total_bytes", 0},
          {"swap_free_bytes", 0}}},
        {"disks",
         json::array{json::object{{"name", "vda"}, {"size_bytes", 1 << 30}, {"type", "disk"}}}},
        {"filesystems",
         json::array{json::object{{"mountpoint", "/boot"}, {"type", "ext4"}, {"free_bytes", 5}},
                     json::object{{"mountpoint", "/"}, {"type", "ext4"}, {"free_bytes", 99}}}},
        {"network",
         {{"interfaces", json::array{interface("lo", "127.0.0.1"), interface("eth0", "10.0.0.5")}},
          {"default_gateways", json::array{"10.0.0.1"}},
          {"dns_servers", json::array{"10.0.0.2"}}}},
        {"software", std::move(software)},
        {"services",
         json::array{json::object{{"name", "ssh.service"}, {"active_state", "active"}},
                     json::object{{"name", "cron.service"}, {"active_state", "active"}}}},
        {"listening_ports",
         json::array{json::object{{"protocol", "tcp"}, {"address", "0.0.0.0"}, {"port", 22}},
                     json::object{{"protocol", "tcp"}, {"address", "::"}, {"port", 22}},
                     json::object{{"protocol", "udp"}, {"address", "0.0.0.0"}, {"port", 68}}}},
        {"users", std::move(users)},
        {"errors", json::array{json::object{
                       {"section", "hardware"}, {"path", "/sys"}, {"reason", "absent"}}}},
    };
}

json::array& rows(json::object& state, std::string_view section) {
    return state.at(section).as_array();
}

json::object* find_row(json::object& state, std::string_view section, std::string_view name) {
    for (auto& row : rows(state, section)) {
        if (row.at("name") == json::value(name)) return &row.as_object();
    }
    return nullptr;
}

// apply(old, compute(old, new)) must give new exactly, and so the same hash.
void check_round_trip(const json::object& old_state, const json::object& new_state) {
    auto changes = compute_changes(old_state, new_state);
    auto applied = apply_changes(old_state, changes);
    REQUIRE(applied.has_value());
    CHECK(canonical_json(*applied) == canonical_json(new_state));
    CHECK(state_hash(*applied) == state_hash(new_state));
    // What went over the wire must also survive serialization.
    auto reparsed = apply_changes(old_state, json::parse(json::serialize(changes)));
    REQUIRE(reparsed.has_value());
    CHECK(state_hash(*reparsed) == state_hash(new_state));
}

boost::system::error_code apply_error(const json::object& base, const char* changes_json) {
    auto result = apply_changes(base, json::parse(changes_json));
    if (result.has_value()) return {};
    return result.error();
}

}  // namespace

TEST_CASE("the row sections and their keys are the protocol's table") {
    std::string table;
    for (const auto& section : muster::row_sections()) {
        table += std::string(section.name) + ":";
        for (auto field : section.key_fields) table += std::string(field) + ",";
        table += " ";
    }
    CHECK(table ==
          "software:source,name,arch, disks:name, filesystems:mountpoint, services:name, "
          "listening_ports:protocol,address,port, users:name, ");
    CHECK(muster::find_row_section("users") != nullptr);
    CHECK(muster::find_row_section("network") == nullptr);
}

TEST_CASE("make_state drops volatile fields and errors, sorts and dedupes rows") {
    auto inventory = json::parse(R"({
        "schema_version": 1,
        "system": {"hostname": "h", "uptime_seconds": 99},
        "memory": {"total_bytes": 10, "available_bytes": 5, "swap_total_bytes": 2, "swap_free_bytes": 1},
        "filesystems": [{"mountpoint": "/var", "free_bytes": 1, "total_bytes": 9},
                        {"mountpoint": "/", "free_bytes": 2, "total_bytes": 8}],
        "software": [
            {"source": "deb", "name": "zlib1g", "arch": "amd64", "version": "1"},
            {"source": "deb", "name": "bash", "arch": "amd64", "version": "5.2"},
            {"source": "deb", "name": "bash", "arch": "amd64", "version": "duplicate"},
            {"source": "apk", "name": "zz", "arch": "x86_64", "version": "2"},
            {"source": "deb", "name": "noarch", "version": "3"},
            "not a row"
        ],
        "services": null,
        "cpu": {"mhz": null},
        "errors": [{"section": "x", "path": "/x", "reason": "absent"}]
    })")
                         .as_object();
    auto state = make_state(inventory);
    CHECK(
        canonical_json(state) ==
        R"({"cpu":{},)"
        R"("filesystems":[{"mountpoint":"/","total_bytes":8},{"mountpoint":"/var","total_bytes":9}],)"
        R"("memory":{"swap_total_bytes":2,"total_bytes":10},)"
        R"("schema_version":1,"services":null,)"
        // Keys ["apk",…] < ["deb","bash",…] < ["deb","noarch",null] < ["deb","zlib1g",…].
        R"("software":[{"arch":"x86_64","name":"zz","source":"apk","version":"2"},)"
        R"({"arch":"amd64","name":"bash","source":"deb","version":"5.2"},)"
        R"({"name":"noarch","source":"deb","version":"3"},)"
        R"({"arch":"amd64","name":"zlib1g","source":"deb","version":"1"}],)"
        R"("system":{"hostname":"h"}})");
    // The input is untouched, and a state is its own state.
    CHECK(inventory.contains("errors"));
    CHECK(make_state(state) == state);
}

TEST_CASE("rows sort by the canonical JSON of their key, integers included") {
    auto inventory = json::parse(R"({"listening_ports": [
        {"protocol": "udp", "address": "::", "port": 53},
        {"protocol": "tcp", "address": "::", "port": 8080},
        {"protocol": "tcp", "address": "::", "port": 22},
        {"protocol": "tcp", "address": "0.0.0.0", "port": 443}]})")
                         .as_object();
    CHECK(canonical_json(make_state(inventory)) ==
          R"({"listening_ports":[{"address":"0.0.0.0","port":443,"protocol":"tcp"},)"
          R"({"address":"::","port":22,"protocol":"tcp"},)"
          R"({"address":"::","port":8080,"protocol":"tcp"},)"
          R"({"address":"::","port":53,"protocol":"udp"}]})");
}

TEST_CASE("state_hash is the SHA-256 of the canonical JSON") {
    // Expected values from `printf '%s' '<canonical text>' | sha256sum`.
    CHECK(state_hash(json::object{}) ==
          "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    CHECK(state_hash(json::object{{"b", json::array{1, "x"}}, {"a", nullptr}}) ==
          "c22cb7b0353770e2b38094af641143ebf008ddf2d1f2dedb9d875996fcf245fa");
    auto state = make_state(realistic_inventory(50));
    CHECK(state_hash(state) == muster::sha256_hex(canonical_json(state)));
}

TEST_CASE("an unchanged state gives no changes") {
    auto state = make_state(realistic_inventory(900));
    CHECK(compute_changes(state, state).empty());
    // Volatile fields are not changes.
    auto inventory = realistic_inventory(900);
    inventory["system"].as_object()["uptime_seconds"] = 999999;
    inventory["memory"].as_object()["available_bytes"] = 1;
    inventory["errors"] = json::array{};
    CHECK(compute_changes(state, make_state(inventory)).empty());
    auto applied = apply_changes(state, json::object{});
    REQUIRE(applied.has_value());
    CHECK(*applied == state);
}

TEST_CASE("one upgraded package is a small change") {
    auto old_state = make_state(realistic_inventory(900));
    auto new_state = old_state;
    auto* upgraded = find_row(new_state, "software", "lib-package-42");
    REQUIRE(upgraded != nullptr);
    (*upgraded)["version"] = "9.9-1";
    auto changes = compute_changes(old_state, new_state);
    CHECK(json::serialize(changes).size() < 300);
    CHECK(canonical_json(changes) ==
          R"({"software":{"changed":[{"arch":"amd64","installed_at":"2024-05-01",)"
          R"("name":"lib-package-42","size_bytes":14336,"source":"deb","vendor":"Debian",)"
          R"("version":"9.9-1"}]}})");
    check_round_trip(old_state, new_state);
}

TEST_CASE("a realistic set of changes round-trips") {
    auto old_inventory = realistic_inventory(900);
    auto new_inventory = old_inventory;
    auto& software = new_inventory["software"].as_array();
    software.push_back(software_row("nginx", "1.22.1-9"));                 // installed
    software.push_back(software_row("nginx", "1.22.1-9", "arm64"));        // same name, other arch
    software[3].as_object()["version"] = "2.0-1";                          // upgraded
    software.erase(software.begin() + 10);                                 // removed
    software.erase(software.begin() + 500);                                // removed
    new_inventory["os"].as_object()["kernel_release"] = "6.1.0-20-amd64";  // value section
    new_inventory["network"].as_object()["interfaces"].as_array().push_back(
        interface("wg0", "10.8.0.1"));
    new_inventory["services"].as_array().push_back(
        json::object{{"name", "nginx.service"}, {"active_state", "active"}});
    new_inventory["listening_ports"].as_array().erase(
        new_inventory["listening_ports"].as_array().begin());
    new_inventory["filesystems"].as_array()[0].as_object()["free_bytes"] = 0;  // volatile only

    auto old_state = make_state(old_inventory);
    auto new_state = make_state(new_inventory);
    auto changes = compute_changes(old_state, new_state);
    CHECK(canonical_json(json::value(changes.at("os"))) ==
          canonical_json(json::object{{"set", new_state.at("os")}}));
    CHECK(changes.at("software").at("added").as_array().size() == 2);
    CHECK(changes.at("software").at("changed").as_array().size() == 1);
    CHECK(changes.at("software").at("removed").as_array().size() == 2);
    CHECK(changes.at("network").as_object().contains("set"));
    CHECK(changes.at("services") ==
          json::parse(R"({"added":[{"name":"nginx.service","active_state":"active"}]})"));
    CHECK(changes.at("listening_ports") == json::parse(R"({"removed":[["tcp","0.0.0.0",22]]})"));
    CHECK_FALSE(changes.contains("filesystems"));
    CHECK_FALSE(changes.contains("users"));
    // The added rows are listed in the order of their keys: ["deb","nginx","amd64"] first.
    CHECK(changes.at("software").at("added").as_array()[0].at("arch") == "amd64");
    CHECK(changes.at("software").at("added").as_array()[1].at("arch") == "arm64");
    check_round_trip(old_state, new_state);
    check_round_trip(new_state, old_state);
}

TEST_CASE("sections that appear, disappear or change kind round-trip") {
    auto base = make_state(realistic_inventory(20));
    auto without_users = base;
    without_users.erase("users");
    auto changes = compute_changes(base, without_users);
    CHECK(changes == json::parse(R"({"users":{"unset":true}})"));
    check_round_trip(base, without_users);
    check_round_trip(without_users, base);

    auto null_software = base;
    null_software["software"] = nullptr;  // unreadable on this run
    CHECK(compute_changes(base, null_software) == json::parse(R"({"software":{"set":null}})"));
    check_round_trip(base, null_software);
    check_round_trip(null_software, base);
    check_round_trip(without_users, null_software);
}

TEST_CASE("apply_changes re-sorts rows into a valid state") {
    auto base = make_state(realistic_inventory(20));
    auto applied = apply_changes(base, json::parse(R"({
        "software": {"added": [{"source": "deb", "name": "aaa", "arch": "amd64", "version": "1"}]},
        "filesystems": {"set": [{"mountpoint": "/z", "free_bytes": 1}, {"mountpoint": "/a"},
                                {"mountpoint": "/z", "type": "dup"}]},
        "memory": {"set": {"total_bytes": 1, "available_bytes": 2}}})"));
    REQUIRE(applied.has_value());
    CHECK(make_state(*applied) == *applied);
    CHECK(canonical_json(applied->at("filesystems")) ==
          R"([{"mountpoint":"/a"},{"mountpoint":"/z"}])");
    CHECK(applied->at("software").as_array()[0].at("name") == "aaa");
}

TEST_CASE("apply_changes reports malformed changes as errors") {
    auto base = make_state(realistic_inventory(20));
    CHECK(apply_error(base, R"([])") == changes_errc::changes_not_object);
    CHECK(apply_error(base, R"("x")") == changes_errc::changes_not_object);
    CHECK(apply_error(base, R"({"os": 1})") == changes_errc::change_not_object);
    CHECK(apply_error(base, R"({"os": {}})") == changes_errc::malformed_change);
    CHECK(apply_error(base, R"({"os": {"set": 1, "unset": true}})") ==
          changes_errc::malformed_change);
    CHECK(apply_error(base, R"({"os": {"unset": 1}})") == changes_errc::malformed_change);
    CHECK(apply_error(base, R"({"nope": {"unset": true}})") == changes_errc::section_absent);
    CHECK(apply_error(base, R"({"users": {"added": [], "extra": []}})") ==
          changes_errc::unknown_member);
    CHECK(apply_error(base, R"({"os": {"added": [{"name": "x"}]}})") ==
          changes_errc::not_a_row_section);
    CHECK(apply_error(base, R"({"bogus": {"removed": [["x"]]}})") ==
          changes_errc::not_a_row_section);
    CHECK(apply_error(base, R"({"users": {"added": {"name": "x"}}})") == changes_errc::wrong_type);
    CHECK(apply_error(base, R"({"users": {"added": ["x"]}})") == changes_errc::wrong_type);
    CHECK(apply_error(base, R"({"users": {"removed": ["user0"]}})") == changes_errc::wrong_type);
    CHECK(apply_error(base, R"({"users": {"removed": [["user0", 1]]}})") ==
          changes_errc::wrong_type);
    CHECK(apply_error(base, R"({"users": {"removed": [["nobody"]]}})") ==
          changes_errc::key_not_present);
    CHECK(apply_error(base, R"({"users": {"changed": [{"name": "nobody"}]}})") ==
          changes_errc::key_not_present);
    CHECK(apply_error(base, R"({"users": {"added": [{"name": "user0"}]}})") ==
          changes_errc::key_already_present);
    CHECK(
        apply_error(base, R"({"users": {"removed": [["user0"]], "added": [{"name": "user0"}]}})") ==
        changes_errc::duplicate_key);
    CHECK(apply_error(base, R"({"users": {"added": [{"name": "new"}, {"name": "new"}]}})") ==
          changes_errc::duplicate_key);
    CHECK(apply_error(base, R"({"users": {"added": [{"name": 1.5}]}})") ==
          changes_errc::floating_point_number);
    CHECK(apply_error(base, R"({"os": {"set": {"x": [0.0]}}})") ==
          changes_errc::floating_point_number);

    auto null_users = base;
    null_users["users"] = nullptr;
    CHECK(apply_error(null_users, R"({"users": {"added": [{"name": "x"}]}})") ==
          changes_errc::section_not_rows);
    // The message says what is wrong.
    auto message = make_error_code(changes_errc::key_not_present).message();
    CHECK(message.find("not in the base state") != std::string::npos);
}

// ----------------------------------------------------------------------------------------
// Randomized, seeded: the same cases on every run.

namespace {

json::value random_scalar(std::mt19937& rng) {
    switch (rng() % 5) {
        case 0:
            return nullptr;
        case 1:
            return rng() % 2 == 0;
        case 2:
            return static_cast<std::int64_t>(rng()) - (1 << 30);
        case 3:
            return std::uint64_t{18446744073709551615u} - rng() % 3;
        default: {
            static const char* words[] = {"a", "B", "_", "aa", "\xc3\xa9", "x\ny", "q\"", ""};
            return words[rng() % 8];
        }
    }
}

json::array random_rows(std::mt19937& rng, const muster::row_section& section) {
    json::array rows;
    auto count = rng() % 12;
    for (std::size_t i = 0; i < count; ++i) {
        json::object row;
        for (auto field : section.key_fields) {
            if (rng() % 6 != 0) {
                row[field] = rng() % 3 == 0 ? random_scalar(rng) : json::value(rng() % 4);
            }
        }
        if (rng() % 2 == 0) row["extra"] = random_scalar(rng);
        if (rng() % 3 == 0) row["free_bytes"] = rng() % 100;
        rows.push_back(std::move(row));
    }
    return rows;
}

json::object random_inventory(std::mt19937& rng) {
    json::object inventory;
    for (const auto& section : muster::row_sections()) {
        if (rng() % 5 == 0) continue;
        if (rng() % 7 == 0) {
            inventory[section.name] = random_scalar(rng);
        } else {
            inventory[section.name] = random_rows(rng, section);
        }
    }
    for (const char* name : {"system", "memory", "os", "errors"}) {
        if (rng() % 4 == 0) continue;
        json::object value;
        for (const char* field : {"uptime_seconds", "available_bytes", "id", "tags"}) {
            if (rng() % 2 == 0) value[field] = random_scalar(rng);
        }
        inventory[name] = rng() % 6 == 0 ? random_scalar(rng) : json::value(std::move(value));
    }
    return inventory;
}

// Small edits of a state, so that old and new share most rows, as in real life.
json::object mutate(std::mt19937& rng, json::object state) {
    for (auto& member : state) {
        if (rng() % 3 != 0) continue;
        auto* rows = member.value().if_array();
        if (!rows || rows->empty()) {
            member.value() = random_scalar(rng);
            continue;
        }
        auto& row = (*rows)[rng() % rows->size()].as_object();
        switch (rng() % 3) {
            case 0:
                row["extra"] = random_scalar(rng);
                break;
            case 1:
                rows->erase(rows->begin() + static_cast<std::ptrdiff_t>(rng() % rows->size()));
                break;
            default:
                rows->push_back(json::object{{"name", "new" + std::to_string(rng() % 5)}});
        }
    }
    return make_state(state);
}

}  // namespace

TEST_CASE("round trip holds for random states") {
    std::mt19937 rng(20240501);
    int with_row_changes = 0;
    for (int i = 0; i < 500; ++i) {
        INFO("case " << i);
        auto old_state = make_state(random_inventory(rng));
        auto new_state = i % 2 == 0 ? make_state(random_inventory(rng)) : mutate(rng, old_state);
        check_round_trip(old_state, new_state);
        for (const auto& change : compute_changes(old_state, new_state)) {
            if (!change.value().as_object().contains("set")) ++with_row_changes;
        }
    }
    // The generator must exercise row changes, not only whole-section replacements.
    CHECK(with_row_changes > 200);
}

TEST_CASE("apply_changes never throws on mangled changes") {
    std::mt19937 rng(7);
    auto base = make_state(realistic_inventory(30));
    int errors = 0;
    for (int i = 0; i < 2000; ++i) {
        auto target = mutate(rng, base);
        json::value changes = compute_changes(base, target);
        // Replace one random node of the changes by a random value.
        std::vector<json::value*> nodes{&changes};
        for (std::size_t n = 0; n < nodes.size(); ++n) {
            if (auto* a = nodes[n]->if_array()) {
                for (auto& e : *a) nodes.push_back(&e);
            } else if (auto* o = nodes[n]->if_object()) {
                for (auto& m : *o) nodes.push_back(&m.value());
            }
        }
        auto* victim = nodes[rng() % nodes.size()];
        switch (rng() % 4) {
            case 0:
                *victim = random_scalar(rng);
                break;
            case 1:
                *victim = json::array{random_scalar(rng)};
                break;
            case 2:
                *victim = json::object{{"added", json::array{random_scalar(rng)}}};
                break;
            default:
                *victim = 0.5;
        }
        INFO(json::serialize(changes));
        CHECK_NOTHROW(errors += apply_changes(base, changes).has_error() ? 1 : 0);
    }
    CHECK(errors > 500);
}
