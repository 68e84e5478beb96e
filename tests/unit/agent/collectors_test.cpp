#include "agent/inventory/collectors.h"

#include <catch2/catch.hpp>

using namespace muster::agent::inventory;

TEST_CASE("every section is produced once, in order, with errors last") {
    context ctx(MUSTER_FIXTURES "/empty-root");
    auto document = collect_inventory(ctx);
    std::vector<std::string> keys;
    for (auto& [key, value] : document) keys.emplace_back(key);
    REQUIRE(keys.size() == all_collectors().size() + 2);
    CHECK(keys.front() == "schema_version");
    CHECK(keys.back() == "errors");
    for (std::size_t i = 0; i < all_collectors().size(); ++i)
        CHECK(keys[i + 1] == all_collectors()[i].section);
}
