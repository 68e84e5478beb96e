#include "common/canonical_json.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

using muster::canonical_json;

namespace {

std::string canonical_of(const char* json_text) {
    return canonical_json(boost::json::parse(json_text));
}

std::string double_error_message(const boost::json::value& value) {
    try {
        canonical_json(value);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "no exception";
}

}  // namespace

TEST_CASE("canonical JSON of scalars") {
    CHECK(canonical_json(nullptr) == "null");
    CHECK(canonical_json(true) == "true");
    CHECK(canonical_json(false) == "false");
    CHECK(canonical_json(0) == "0");
    CHECK(canonical_json(-17) == "-17");
    CHECK(canonical_json(std::numeric_limits<std::int64_t>::min()) == "-9223372036854775808");
    CHECK(canonical_json(std::numeric_limits<std::int64_t>::max()) == "9223372036854775807");
    CHECK(canonical_json(std::numeric_limits<std::uint64_t>::max()) == "18446744073709551615");
    CHECK(canonical_of("18446744073709551615") == "18446744073709551615");
    CHECK(canonical_json("") == R"("")");
}

TEST_CASE("canonical JSON escapes only quote, backslash and control characters") {
    std::string all_controls;
    for (char c = 0; c < 0x20; ++c) all_controls += c;
    CHECK(canonical_json(boost::json::string(all_controls)) ==
          R"("\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f)"
          R"(\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c)"
          R"(\u001d\u001e\u001f")");
    CHECK(canonical_json(R"(a"b\c/d)") == R"("a\"b\\c/d")");
    CHECK(canonical_json("del\x7f") == "\"del\x7f\"");
}

TEST_CASE("canonical JSON writes non-ASCII characters as UTF-8") {
    // é, €, 😀 and a non-character, all as their own bytes, never \u escapes.
    CHECK(canonical_of(R"("\u00e9\u20ac\ud83d\ude00")") ==
          "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    CHECK(canonical_json("h\xc3\xa9llo") == "\"h\xc3\xa9llo\"");
}

TEST_CASE("canonical JSON sorts object members by the bytes of their key") {
    CHECK(canonical_of(R"({"aa":1,"a":2,"_":3,"B":4,"":5})") ==
          R"({"":5,"B":4,"_":3,"a":2,"aa":1})");
    // Bytes are unsigned: a UTF-8 key sorts after every ASCII key.
    CHECK(canonical_of(R"({"\u00e9":1,"z":2})") == "{\"z\":2,\"\xc3\xa9\":1}");
}

TEST_CASE("canonical JSON of nested values has no white space") {
    CHECK(
        canonical_of(
            R"( { "b" : [ 1 , { "d" : [ ] , "c" : { } } ] , "a" : { "y" : null , "x" : true } } )") ==
        R"({"a":{"x":true,"y":null},"b":[1,{"c":{},"d":[]}]})");
    CHECK(canonical_of("[]") == "[]");
    CHECK(canonical_of("{}") == "{}");
    CHECK(canonical_of(R"([[["deep"]],-0])") == R"([[["deep"]],0])");
}

TEST_CASE("canonical JSON refuses floating point numbers and says where they are") {
    CHECK_THROWS_AS(canonical_json(1.5), std::invalid_argument);
    CHECK(double_error_message(1.5).find("\"\"") != std::string::npos);
    auto nested = boost::json::parse(R"({"a":[1,{"b~/c":2.0}]})");
    auto message = double_error_message(nested);
    CHECK(message.find("\"/a/1/b~0~1c\"") != std::string::npos);
    CHECK(double_error_message(boost::json::parse(R"({"cpu":{"mhz":2400.5}})"))
              .find("\"/cpu/mhz\"") != std::string::npos);
}

TEST_CASE("canonical JSON is the same for equal values built differently") {
    boost::json::object a{{"x", 1}, {"y", boost::json::array{1, 2}}};
    boost::json::object b{{"y", boost::json::array{1, 2}}, {"x", 1u}};
    CHECK(canonical_json(a) == canonical_json(b));
    CHECK(canonical_json(a) == R"({"x":1,"y":[1,2]})");
}
