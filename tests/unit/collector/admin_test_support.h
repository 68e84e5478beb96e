#pragma once
// A real CMDB behind the admin API for its tests: a SQLite store with hosts ingested the way
// agents report them, the read queries on their own read-only connections, tokens of every
// role, and calls made as HTTP requests in memory (no socket).
#include "collector/admin/admin_api.h"
#include "collector/admin/queries.h"
#include "collector/sqlite_store.h"
#include "common/crypto.h"
#include "support/process.h"
#include "unit/collector/store_test_support.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace muster::test {

namespace admin = muster::collector::admin;
using collector::http_request;
using collector::http_response;
namespace http = collector::http;

struct package {
    std::string name;
    std::string version;
    std::string source = "deb";
    std::string arch = "amd64";
};

// One host as an agent reports it; every identity field derived from the hostname and a
// number, so hosts never merge unless a test wants them to.
struct host_spec {
    std::string hostname;
    int number = 0;
    std::string os_id = "debian";
    std::string os_pretty = "Debian GNU/Linux 12 (bookworm)";
    std::vector<std::string> tags = {"web"};
    std::vector<package> packages = {{"openssl", "3.0.11-1~deb12u2"}, {"bash", "5.2.15-2+b2"}};
};

inline std::string two_digits(int n) {
    std::string text = std::to_string(n % 100);
    return text.size() == 1 ? "0" + text : text;
}

inline json::object inventory_of(const host_spec& spec) {
    host_facts facts;
    facts.hostname = spec.hostname;
    facts.serial = "SN-" + std::to_string(spec.number);
    facts.product_uuid = "4c4c4544-0000-0000-0000-" + std::to_string(100000000000 + spec.number);
    facts.machine_id = sha256_hex("machine-" + std::to_string(spec.number)).substr(0, 32);
    facts.mac = "52:54:00:aa:bb:" + two_digits(spec.number);
    facts.address = "10.0.1." + std::to_string(spec.number % 250 + 1);
    facts.packages.clear();
    auto inventory = make_inventory(facts);
    auto& system = inventory["system"].as_object();
    json::array tags;
    for (const auto& tag : spec.tags) tags.emplace_back(tag);
    system["tags"] = std::move(tags);
    inventory["os"] = json::object{{"id", spec.os_id},
                                   {"version_id", "12"},
                                   {"pretty_name", spec.os_pretty},
                                   {"arch", "x86_64"}};
    json::array software;
    for (const auto& p : spec.packages) {
        software.push_back(json::object{{"name", p.name},
                                        {"version", p.version},
                                        {"arch", p.arch},
                                        {"source", p.source},
                                        {"vendor", nullptr},
                                        {"installed_at", nullptr},
                                        {"size_bytes", 1000}});
    }
    inventory["software"] = std::move(software);
    return inventory;
}

struct admin_fixture {
    static constexpr std::string_view admin_token = "config-admin-token";
    static constexpr std::string_view viewer_token = "viewer-token-text";
    static constexpr std::string_view operator_token = "operator-token-text";
    static constexpr std::string_view cmdb_admin_token = "cmdb-admin-token-text";

    admin_fixture() {
        collector::incidents::service_definition web;
        web.name = "web";
        web.owner = "alice@example.org";
        web.criticality = collector::incidents::level::high;
        web.hostnames = {"web-*"};
        collector::incidents::service_definition db;
        db.name = "db";
        db.tags = {"db"};
        settings.services = {web, db};
        settings.open_after = 1;
        settings.resolve_after = 1;
        store = collector::open_sqlite_store(db_file, settings);
        queries = admin::open_sqlite_queries({db_file, settings.services, 2, {}});
        tokens = admin::open_sqlite_token_writer(db_file);
        admin::admin_settings api_settings;
        api_settings.admin_token_sha256 = {sha256_hex("an-older-admin-token"),
                                           sha256_hex(admin_token)};
        api_settings.database = db_file;
        api = std::make_unique<admin::admin_api>(
            *queries, *tokens, *store, &store->incidents(), api_settings, [this] { return now; },
            [] { return std::string("muster_up 1\n"); });
        tokens->create_token("vera", admin::role::viewer, sha256_hex(viewer_token), now);
        tokens->create_token("otto", admin::role::operator_, sha256_hex(operator_token), now);
        tokens->create_token("ada", admin::role::admin, sha256_hex(cmdb_admin_token), now);
    }

    // Enrolls an agent for the host and ingests its full report; answers the agent id.
    std::string add_host(const host_spec& spec, json::array checks = {}) {
        auto agent_id =
            store->enroll_agent(enrollment_for("key-" + std::to_string(spec.number)), true, now)
                .agent_id;
        auto report = full_report(agent_id, 1, inventory_of(spec));
        if (!checks.empty()) report.document["checks"] = std::move(checks);
        ingest(report);
        specs[agent_id] = spec;
        return agent_id;
    }

    void ingest(const collector::verified_report& report) {
        auto results = store->ingest(std::span(&report, 1), now);
        REQUIRE(results.at(0).status == collector::ingest_status::ok);
    }

    http_response call(http::verb method, const std::string& target, std::string_view token,
                       const std::string& body = {}) {
        http_request request{method, target, 11};
        if (!token.empty()) request.set(http::field::authorization, "Bearer " + std::string(token));
        request.body() = body;
        request.prepare_payload();
        return api->handle(request);
    }

    // A GET that must answer 200; its JSON body.
    json::value get(const std::string& target, std::string_view token = admin_token) {
        auto response = call(http::verb::get, target, token);
        INFO(target << " -> " << response.body());
        REQUIRE(response.result() == http::status::ok);
        return json::parse(response.body());
    }

    json::value post(const std::string& target, const json::object& body,
                     std::string_view token = admin_token,
                     http::status expected = http::status::ok) {
        auto response = call(http::verb::post, target, token, json::serialize(body));
        INFO(target << " -> " << response.body());
        REQUIRE(response.result() == expected);
        return json::parse(response.body());
    }

    // Every item of a list, following next_cursor with the given page size.
    json::array walk(const std::string& target, int limit) {
        json::array all;
        std::string cursor;
        auto separator = target.find('?') == std::string::npos ? "?" : "&";
        for (int pages = 0; pages < 10'000; ++pages) {
            auto url = target + separator + "limit=" + std::to_string(limit);
            if (!cursor.empty()) url += "&cursor=" + cursor;
            auto page = get(url).as_object();
            for (auto& item : page.at("items").as_array()) all.push_back(item);
            if (page.at("next_cursor").is_null()) return all;
            cursor = std::string(page.at("next_cursor").as_string());
        }
        FAIL("the cursor walk does not end");
        return all;
    }

    std::int64_t now = 1'764'460'800;
    temp_dir dir;
    std::filesystem::path db_file = std::filesystem::path(dir.path()) / "cmdb.sqlite";
    collector::incidents::incident_settings settings;
    std::unique_ptr<collector::cmdb_store> store;
    std::unique_ptr<admin::admin_queries> queries;
    std::unique_ptr<admin::token_writer> tokens;
    std::unique_ptr<admin::admin_api> api;
    std::map<std::string, host_spec> specs;
};

inline std::vector<std::int64_t> ids_of(const json::array& items) {
    std::vector<std::int64_t> ids;
    for (const auto& item : items) ids.push_back(item.at("id").as_int64());
    return ids;
}

inline std::vector<std::string> hostnames_of(const json::array& items) {
    std::vector<std::string> names;
    for (const auto& item : items) names.emplace_back(item.at("hostname").as_string());
    std::sort(names.begin(), names.end());
    return names;
}

inline json::object check_result(const std::string& id, const std::string& status,
                                 std::int64_t at) {
    return json::object{{"id", id},
                        {"type", "disk_usage"},
                        {"severity", "high"},
                        {"status", status},
                        {"message", "/ is 97.1% full"},
                        {"value", 97.1},
                        {"unit", "%"},
                        {"checked_at", at},
                        {"interval", 60},
                        {"duration_ms", 3}};
}

}  // namespace muster::test
