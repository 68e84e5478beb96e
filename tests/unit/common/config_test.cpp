// The config reader: every problem is reported with file:line:column, nothing is ignored.
#include "common/config.h"
#include "common/file.h"
#include "support/process.h"

#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using muster::config_error;
using muster::config_map;
using muster::load_yaml_string;

namespace {

// Runs read on text as a whole config file (finish included) and returns the error message,
// or "" when the text was accepted.
std::string error_of(std::string_view text, const std::function<void(config_map&)>& read) {
    try {
        muster::read_config(load_yaml_string(text, "test.yaml"), read);
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

void read_nothing(config_map&) {}

}  // namespace

TEST_CASE("typed values are read with their defaults") {
    auto doc = load_yaml_string(
        "name: web\n"
        "port: 8443\n"
        "enabled: false\n"
        "limit: 64MiB\n"
        "interval: 1h30m\n"
        "level: debug\n"
        "tags: [a, 'b c']\n"
        "inventory:\n"
        "  splay: 45\n",
        "test.yaml");
    muster::read_config(doc, [](config_map& root) {
        CHECK(root.get_string("name") == "web");
        CHECK(root.get_string("absent", "dflt") == "dflt");
        CHECK(root.get_int("port", 1, 1, 65535) == 8443);
        CHECK(root.get_bool("enabled", true) == false);
        CHECK(root.get_size("limit", 0, 0, 1ULL << 40) == 64ULL * 1024 * 1024);
        CHECK(root.get_duration("interval", 1s, 0s, 24h) == 90min);
        CHECK(root.get_enum("level", {"debug", "info"}, "info") == "debug");
        CHECK(root.get_string_list("tags", {}) == std::vector<std::string>{"a", "b c"});
        auto inventory = root.get_map("inventory");
        CHECK(inventory.present());
        CHECK(inventory.get_duration("splay", 0s, 0s, 1h) == 45s);
        CHECK(inventory.get_duration("interval", 1h, 1min, 24h) == 1h);
        auto absent = root.get_map("collector");
        CHECK_FALSE(absent.present());
        CHECK(absent.get_int("retries", 3, 0, 10) == 3);
    });
}

TEST_CASE("an empty or comment-only file is an empty mapping") {
    CHECK(error_of("", read_nothing) == "");
    CHECK(error_of("# nothing configured\n", read_nothing) == "");
    CHECK(error_of("~\n", read_nothing) == "");
}

TEST_CASE("an unknown key names its position, its section and the keys expected") {
    auto read = [](config_map& root) {
        root.get_string_list("tags", {});
        auto inv = root.get_map("inventory");
        inv.get_duration("interval", 1h, 1min, 24h);
        inv.get_duration("splay", 0s, 0s, 1h);
    };
    CHECK(error_of("inventory:\n  interval: 1h\n  tagz: [a]\n", read) ==
          "test.yaml:3:3: unknown key 'tagz' in 'inventory' (expected one of: interval, splay)");
    CHECK(error_of("tags: []\ntagz: [a]\n", read) ==
          "test.yaml:2:1: unknown key 'tagz' (expected one of: inventory, tags)");
    CHECK(error_of("x: 1\n", read_nothing) ==
          "test.yaml:1:1: unknown key 'x' (this section takes no keys)");
}

TEST_CASE("finish on the root checks nested mappings the reader did not finish") {
    // read_config finishes only the root; the nested mapping is checked through it.
    auto message = error_of("log:\n  level: info\n  colour: red\n", [](config_map& root) {
        auto log = root.get_map("log");
        log.get_enum("level", {"info"}, "info");
    });
    CHECK(message == "test.yaml:3:3: unknown key 'colour' in 'log' (expected one of: level)");
}

TEST_CASE("wrong types are reported at the value") {
    CHECK(error_of("inventory:\n  interval: soon\n",
                   [](config_map& root) {
                       root.get_map("inventory").get_duration("interval", 1h, 1min, 24h);
                   }) ==
          "test.yaml:2:13: 'inventory.interval': expected a duration like 30s, 5m, 1h, got 'soon'");
    CHECK(error_of("port: eighty\n", [](config_map& root) { root.get_int("port", 1, 1, 9); }) ==
          "test.yaml:1:7: 'port': expected an integer, got 'eighty'");
    CHECK(error_of("on: yes\n", [](config_map& root) { root.get_bool("on", true); }) ==
          "test.yaml:1:5: 'on': expected true or false, got 'yes'");
    CHECK(error_of("limit: 12 parsecs\n",
                   [](config_map& root) { root.get_size("limit", 1, 0, 1000); }) ==
          "test.yaml:1:8: 'limit': expected a size like 4096, 512KiB, 64MiB, 10MB, got '12 "
          "parsecs'");
    CHECK(error_of("level: loud\n", [](config_map& root) {
              root.get_enum("level", {"info", "warn"}, "info");
          }) == "test.yaml:1:8: 'level': expected one of info, warn, got 'loud'");
    CHECK(error_of("name: [a, b]\n", [](config_map& root) { root.get_string("name"); }) ==
          "test.yaml:1:7: 'name': expected a string, got a list");
    CHECK(error_of("log: info\n", [](config_map& root) { root.get_map("log"); }) ==
          "test.yaml:1:6: 'log': expected a mapping, got 'info'");
    CHECK(error_of("tags: prod\n", [](config_map& root) { root.get_string_list("tags", {}); }) ==
          "test.yaml:1:7: 'tags': expected a list of strings, got 'prod'");
    CHECK(error_of("tags:\n  - a\n  - {b: 1}\n", [](config_map& root) {
              root.get_string_list("tags", {});
          }) == "test.yaml:3:5: 'tags[1]': expected a string, got a mapping");
}

TEST_CASE("an empty value is not taken for a default") {
    CHECK(error_of("port:\nx: 1\n", [](config_map& root) {
              root.get_int("port", 1, 1, 9);
              root.get_int("x", 1, 1, 9);
          }) == "test.yaml:1:1: 'port': expected an integer, got nothing");
}

TEST_CASE("out-of-range values name the range in the value's own units") {
    CHECK(error_of("port: 70000\n", [](config_map& root) { root.get_int("port", 1, 1, 65535); }) ==
          "test.yaml:1:7: 'port': 70000 is out of range (expected 1 to 65535)");
    CHECK(error_of("interval: 10s\n", [](config_map& root) {
              root.get_duration("interval", 1h, 1min, 7 * 24h);
          }) == "test.yaml:1:11: 'interval': 10s is out of range (expected 1m to 7d)");
    CHECK(error_of("limit: 2GiB\n", [](config_map& root) {
              root.get_size("limit", 1, 1024, 64ULL << 20);
          }) == "test.yaml:1:8: 'limit': 2GiB is out of range (expected 1KiB to 64MiB)");
    CHECK(error_of("tags: [a, b, c]\n", [](config_map& root) {
              root.get_string_list("tags", {}, 2);
          }) == "test.yaml:1:7: 'tags': at most 2 entries allowed, got 3");
}

TEST_CASE("a missing required key is reported where its mapping starts") {
    auto read = [](config_map& root) { root.get_map("collector").get_string("url"); };
    CHECK(error_of("", read) == "test.yaml:1:1: missing required key 'url' in 'collector'");
    CHECK(error_of("# comment\ncollector:\n  timeout: 5s\n", [](config_map& root) {
              auto c = root.get_map("collector");
              c.get_duration("timeout", 1s, 1s, 1min);
              c.get_string("url");
          }) == "test.yaml:2:1: missing required key 'url' in 'collector'");
    CHECK(error_of("a: 1\n", [](config_map& root) { root.get_string("url"); }) ==
          "test.yaml:1:1: missing required key 'url'");
}

TEST_CASE("duplicate keys are errors, at the second occurrence") {
    CHECK(error_of("tags: [a]\nlog: {}\ntags: [b]\n", read_nothing) ==
          "test.yaml:3:1: duplicate key 'tags' (first at line 1)");
    CHECK(error_of("log:\n  level: info\n  level: warn\n", [](config_map& root) {
              root.get_map("log");
          }) == "test.yaml:3:3: duplicate key 'level' (first at line 2)");
}

TEST_CASE("YAML syntax errors carry yaml-cpp's position, 1-based") {
    // yaml-cpp itself is the oracle for where the error is; we only shift it to 1-based.
    for (std::string text :
         {"tags: [a, b\nlog: x\n", "a: 1\n  b: 2\n", "a: *nowhere\n", "{a: 1\n"}) {
        INFO(text);
        YAML::Mark mark;
        std::string reason;
        try {
            YAML::Load(text);
        } catch (const YAML::Exception& e) {
            mark = e.mark;
            reason = e.msg;
        }
        REQUIRE_FALSE(reason.empty());
        CHECK(error_of(text, read_nothing) == "test.yaml:" + std::to_string(mark.line + 1) + ":" +
                                                  std::to_string(mark.column + 1) +
                                                  ": invalid YAML: " + reason);
    }
    CHECK(error_of("a: 1\n  b: 2\n", read_nothing) ==
          "test.yaml:2:4: invalid YAML: illegal map value");
}

// Found by tests/fuzz/config_yaml_fuzz.cpp: yaml-cpp 0.7 never returned from these, eating
// memory without end.
TEST_CASE("inputs on which yaml-cpp makes no progress are YAML errors, not a hang") {
    for (std::string text : {",", ",og'$b\n", "-\n,", "# comment\n ,'x'\n", "a: 1\n---\n,"}) {
        INFO(text);
        auto error = error_of(text, read_nothing);
        CHECK(error.starts_with("test.yaml:"));
        CHECK(error.find(": invalid YAML: ") != std::string::npos);
    }
    CHECK(error_of("-\n,", read_nothing).starts_with("test.yaml:2:1: invalid YAML"));
}

TEST_CASE("structural problems: several documents, a non-mapping root, non-string keys") {
    CHECK(error_of("a: 1\n---\nb: 2\n", read_nothing) ==
          "test.yaml:3:1: a config file holds one YAML document, not several");
    CHECK(error_of("- a\n- b\n", read_nothing) ==
          "test.yaml:1:1: expected a mapping of keys at the top level, got a list");
    CHECK(error_of("? [a, b]\n: 1\n", read_nothing) ==
          "test.yaml:1:3: keys must be plain strings, got a list");
}

TEST_CASE("custom checks and fail() report at the value") {
    auto no_spaces = [](std::string_view s) -> std::optional<std::string> {
        if (s.find(' ') != std::string_view::npos) return "no spaces allowed";
        return std::nullopt;
    };
    CHECK(error_of("tags:\n  - ok\n  - not ok\n", [&](config_map& root) {
              root.get_string_list("tags", {}, 10, no_spaces);
          }) == "test.yaml:3:5: 'tags[1]': no spaces allowed");
    CHECK(error_of("log:\n  file: relative\n", [](config_map& root) {
              auto log = root.get_map("log");
              log.get_string("file", "");
              log.fail("file", "must be an absolute path");
          }) == "test.yaml:2:9: 'log.file': must be an absolute path");
}

TEST_CASE("files: the path is the name in messages and I/O errors are config errors") {
    muster::test::temp_dir dir;
    auto path = dir.path() + "/agent.yaml";
    REQUIRE(muster::write_file_atomic(path, "tags: [a]\ntagz: [b]\n"));
    auto doc = muster::load_yaml_file(path);
    CHECK(doc.name() == path);
    REQUIRE_THROWS_WITH(
        muster::read_config(doc, [](config_map& r) { r.get_string_list("tags", {}); }),
        path + ":2:1: unknown key 'tagz' (expected one of: tags)");
    REQUIRE_THROWS_WITH(muster::load_yaml_file(dir.path() + "/missing.yaml"),
                        dir.path() + "/missing.yaml: cannot read: No such file or directory");
    std::string huge(muster::max_config_file_bytes + 1, '#');
    REQUIRE(muster::write_file_atomic(dir.path() + "/huge.yaml", huge));
    REQUIRE_THROWS_AS(muster::load_yaml_file(dir.path() + "/huge.yaml"), config_error);
}

TEST_CASE("size syntax") {
    using muster::parse_size;
    CHECK(parse_size("4096") == 4096u);
    CHECK(parse_size("100B") == 100u);
    CHECK(parse_size("10MB") == 10'000'000u);
    CHECK(parse_size("64MiB") == 64u << 20);
    CHECK(parse_size("64 MiB") == 64u << 20);
    CHECK(parse_size("1TiB") == 1ULL << 40);
    CHECK_FALSE(parse_size(""));
    CHECK_FALSE(parse_size("MiB"));
    CHECK_FALSE(parse_size("-1"));
    CHECK_FALSE(parse_size("1.5MiB"));
    CHECK_FALSE(parse_size("64mib"));
    CHECK_FALSE(parse_size("99999999999TiB"));  // overflows 64 bits
}

TEST_CASE("duration syntax") {
    using muster::parse_duration;
    CHECK(parse_duration("45") == 45s);
    CHECK(parse_duration("500ms") == 500ms);
    CHECK(parse_duration("30s") == 30s);
    CHECK(parse_duration("5m") == 5min);
    CHECK(parse_duration("2d") == 48h);
    CHECK(parse_duration("1h30m") == 90min);
    CHECK(parse_duration("1m500ms") == 60500ms);
    CHECK_FALSE(parse_duration(""));
    CHECK_FALSE(parse_duration("s"));
    CHECK_FALSE(parse_duration("5 m"));
    CHECK_FALSE(parse_duration("5x"));
    CHECK_FALSE(parse_duration("1h30"));
    CHECK_FALSE(parse_duration("-5s"));
    CHECK_FALSE(parse_duration("99999999999999999999s"));
}
