// Logging: JSON lines that a real JSON parser accepts, levels, redaction.
#include "common/logging.h"
#include "common/file.h"
#include "support/process.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <regex>
#include <sstream>

namespace {

std::vector<std::string> lines_of(const std::string& path) {
    auto text = muster::read_file(path);
    REQUIRE(text);
    std::vector<std::string> lines;
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

}  // namespace

TEST_CASE("json format: one object per line with time, level, logger and msg") {
    muster::test::temp_dir dir;
    auto path = dir.path() + "/log.json";
    muster::setup_logging({.level = "debug", .format = muster::log_format::json, .file = path});

    auto inventory = muster::get_logger("inventory");
    inventory->info("read {} packages from \"{}\"", 12, "/var/lib/dpkg/status");
    inventory->trace("below the level, not written");
    spdlog::warn("line one\nline two\ttab \x01 ctl, bad utf-8 \xff\xfe, ok \xc3\xa9");
    spdlog::debug("backslash \\ end");

    auto lines = lines_of(path);
    REQUIRE(lines.size() == 3);
    auto first = boost::json::parse(lines[0]).as_object();
    CHECK(first.size() == 4);
    CHECK(first.at("level") == "info");
    CHECK(first.at("logger") == "inventory");
    CHECK(first.at("msg") == "read 12 packages from \"/var/lib/dpkg/status\"");
    std::string time(first.at("time").as_string());
    CHECK(std::regex_match(time, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));

    auto second = boost::json::parse(lines[1]).as_object();
    CHECK(second.at("level") == "warn");
    CHECK(second.at("logger") == "muster");
    CHECK(second.at("msg") ==
          "line one\nline two\ttab \x01 ctl, bad utf-8 \xEF\xBF\xBD\xEF\xBF\xBD, ok \xc3\xa9");

    auto third = boost::json::parse(lines[2]).as_object();
    CHECK(third.at("level") == "debug");
    CHECK(third.at("msg") == "backslash \\ end");
}

TEST_CASE("text format and reconfiguration of loggers created earlier") {
    muster::test::temp_dir dir;
    auto early = muster::get_logger("transport");
    auto path = dir.path() + "/log.txt";
    muster::setup_logging(
        {.level = "warn", .format = muster::log_format::text, .file = path, .name = "agent"});
    early->info("filtered out");
    early->error("connection refused");
    spdlog::warn("from the default logger");

    auto lines = lines_of(path);
    REQUIRE(lines.size() == 2);
    CHECK(std::regex_match(
        lines[0],
        std::regex(
            R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z error \[transport\] connection refused)")));
    CHECK(lines[1].ends_with(" warn [agent] from the default logger"));
}

TEST_CASE("setup refuses an unknown level") {
    muster::logging_options options;
    options.level = "verbose";
    CHECK_THROWS_AS(muster::setup_logging(options), std::invalid_argument);
}

TEST_CASE("level and format names") {
    for (auto name : muster::log_level_names) CHECK(muster::parse_log_level(name));
    CHECK(muster::parse_log_level("warn") == spdlog::level::warn);
    CHECK(muster::parse_log_level("error") == spdlog::level::err);
    CHECK_FALSE(muster::parse_log_level("warning"));
    CHECK(muster::parse_log_format("json") == muster::log_format::json);
    CHECK_FALSE(muster::parse_log_format("xml"));
}

TEST_CASE("redact shows only the length of a secret") {
    CHECK(muster::redact("s3cr3t-token-value") == "[redacted 18 bytes]");
    CHECK(muster::redact("") == "[redacted 0 bytes]");
    CHECK(muster::redact("abcd1234").find("1234") == std::string::npos);
}

TEST_CASE("json_quote escapes and repairs, and Boost.JSON reads back the text") {
    CHECK(muster::json_quote("a\"b\\c\n") == R"("a\"b\\c\n")");
    CHECK(muster::json_quote(std::string_view("\0\x1f", 2)) == R"("\u0000\u001f")");
    // Overlong '/', a UTF-16 surrogate and a truncated sequence are all invalid UTF-8.
    CHECK(muster::json_quote("\xc0\xaf|\xed\xa0\x80|\xe2\x82") ==
          "\"\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|"
          "\xEF\xBF\xBD\xEF\xBF\xBD\"");
    std::string valid = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    CHECK(boost::json::parse(muster::json_quote(valid)).as_string() == valid);
}
