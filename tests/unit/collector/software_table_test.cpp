// Software stored normalized (collector/software_table.h): a package is one row of
// software_packages however many CIs have it, each CI's installs point at it, and the view
// ci_software gives back every CI's rows whole.
#include "collector/admin/queries.h"
#include "unit/collector/store_fleet.h"

#include <catch2/catch.hpp>

namespace {

namespace json = boost::json;
using muster::test::host_facts;

struct fleet : muster::test::store_fleet {
    agent report(const std::string& seed, json::object inventory) {
        auto a = enroll(seed, 1);
        full(a, std::move(inventory), 1000);
        return a;
    }
    // "name version" of a CI's software, by name.
    std::vector<std::string> software_of(const agent& a) {
        auto select = db.prepare(
            "SELECT name || ' ' || version FROM ci_software WHERE ci_id = ?1 ORDER BY name");
        select.bind(1, ci_of(a));
        std::vector<std::string> rows;
        while (select.step()) rows.push_back(select.column_text(0));
        return rows;
    }
};

host_facts second_host() {
    host_facts facts;
    facts.hostname = "web-2";
    facts.product_uuid = "4c4c4544-0042-3510-8051-b7c04f4e4a33";
    facts.serial = "SN-67890";
    facts.machine_id = "1f1e2d3c4b5a69788796a5b4c3d2e1f0";
    facts.mac = "52:54:00:12:34:57";
    facts.address = "10.0.0.6";
    facts.packages = {{"openssl", "3.0.11-1~deb12u2"}, {"bash", "5.2.15-2+b2"}, {"vim", "2:9.0"}};
    return facts;
}

// The software rows of an inventory with a field removed, or set, in every row.
json::object with_software_field(json::object inventory, std::string_view field,
                                 const json::value* value) {
    for (auto& row : inventory["software"].as_array()) {
        if (value) {
            row.as_object()[field] = *value;
        } else {
            row.as_object().erase(field);
        }
    }
    return inventory;
}

}  // namespace

TEST_CASE("a package is one row however many CIs have it, and each CI reads back whole") {
    fleet f;
    host_facts first;
    auto a = f.report("a", muster::test::make_inventory(first));
    auto b = f.report("b", muster::test::make_inventory(second_host()));
    REQUIRE(f.ci_of(a) != f.ci_of(b));
    CHECK(f.number("SELECT count(*) FROM software_packages") == 4);
    CHECK(f.number("SELECT count(*) FROM ci_software_installs") == 6);

    {
        // Stepped once, the statement holds a read snapshot until it ends: in its own scope.
        auto row = f.db.prepare(
            "SELECT source, name, arch, version, vendor, installed_at, size_bytes FROM ci_software "
            "WHERE ci_id = ?1 AND name = 'vim'");
        row.bind(1, f.ci_of(b));
        REQUIRE(row.step());
        CHECK(row.column_text(0) == "deb");
        CHECK(row.column_text(2) == "amd64");
        CHECK(row.column_text(3) == "2:9.0");
        CHECK(row.column_text(4) == "Debian");
        CHECK(row.column_text(5) == "2024-01-01T00:00:00Z");
        CHECK(row.column_int64(6) == 1000);
    }

    // One CI upgrades openssl and removes curl: the other keeps the version it has.
    first.packages = {{"openssl", "3.0.13-1~deb12u1"}, {"bash", "5.2.15-2+b2"}};
    f.delta(a, first, 2000);
    CHECK(f.software_of(a) ==
          std::vector<std::string>{"bash 5.2.15-2+b2", "openssl 3.0.13-1~deb12u1"});
    CHECK(f.software_of(b) ==
          std::vector<std::string>{"bash 5.2.15-2+b2", "openssl 3.0.11-1~deb12u2", "vim 2:9.0"});
    CHECK(f.number("SELECT count(*) FROM ci_software WHERE name = 'openssl'") == 2);
    CHECK(f.number("SELECT count(*) FROM ci_software WHERE name = 'curl'") == 0);

    // The catalogue counts what CIs have: curl's package is kept, and counts nowhere.
    auto queries =
        muster::collector::admin::open_sqlite_queries({f.db_file, {}, 1, std::chrono::seconds(0)});
    json::array catalogue;
    for (auto& item : queries->software(std::nullopt, {}).items) {
        const auto& entry = item.as_object();
        catalogue.push_back(json::array{entry.at("name"), entry.at("versions"), entry.at("hosts")});
    }
    CHECK(json::serialize(catalogue) == R"([["bash",1,2],["openssl",2,2],["vim",1,1]])");
}

TEST_CASE("rows without a vendor or a size share their package, install times stay per CI") {
    fleet f;
    json::value later = "2025-06-01T00:00:00Z";
    auto bare = [&](const host_facts& facts) {
        auto inventory =
            with_software_field(muster::test::make_inventory(facts), "vendor", nullptr);
        return with_software_field(std::move(inventory), "size_bytes", nullptr);
    };
    auto a = f.report("a", bare(host_facts{}));
    auto b = f.report("b", with_software_field(bare(second_host()), "installed_at", &later));
    CHECK(f.number("SELECT count(*) FROM software_packages") == 4);
    CHECK(f.number("SELECT count(*) FROM software_packages WHERE vendor IS NULL AND "
                   "size_bytes IS NULL") == 4);
    {
        auto times =
            f.db.prepare("SELECT installed_at FROM ci_software WHERE name = 'bash' ORDER BY ci_id");
        REQUIRE(times.step());
        CHECK(times.column_text(0) == "2024-01-01T00:00:00Z");
        REQUIRE(times.step());
        CHECK(times.column_text(0) == "2025-06-01T00:00:00Z");
    }

    // The same key at another version replaces the CI's row, whatever else differs.
    host_facts upgraded;
    upgraded.packages = {
        {"openssl", "3.0.13-1~deb12u1"}, {"bash", "5.2.15-2+b2"}, {"curl", "7.88.1-10"}};
    f.delta(a, upgraded, 2000);
    CHECK(f.software_of(a) == std::vector<std::string>{"bash 5.2.15-2+b2", "curl 7.88.1-10",
                                                       "openssl 3.0.13-1~deb12u1"});
    CHECK(f.number("SELECT count(*) FROM ci_software_installs") == 6);
}
