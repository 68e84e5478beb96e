#include "common/json.h"

#include <catch2/catch.hpp>

TEST_CASE("pretty JSON round-trips and indents nested values") {
    auto value = boost::json::parse(R"({"a":[1,{"b":null}],"c":{},"d":[],"e":"x\"y"})");
    auto text = muster::to_pretty_json(value);
    CHECK(boost::json::parse(text) == value);
    CHECK(text.find("\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ]") !=
          std::string::npos);
    CHECK(text.back() == '\n');
}
