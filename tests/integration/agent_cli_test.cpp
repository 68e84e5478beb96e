// The real muster-agent with --config and --log-level: config errors stop it with exit code 2
// and a message naming file:line:column; configured tags reach the inventory document.
#include "common/file.h"
#include "support/process.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <sstream>

namespace {

const std::string empty_root = MUSTER_FIXTURES "/empty-root";

std::string write_config(const muster::test::temp_dir& dir, const std::string& text) {
    auto path = dir.path() + "/agent.yaml";
    REQUIRE(muster::write_file_atomic(path, text));
    return path;
}

}  // namespace

TEST_CASE("a misspelt key stops the agent with exit code 2 and the key's position") {
    muster::test::temp_dir dir;
    auto path = write_config(
        dir, "# tags of this host\ntags: [web]\n  \nlog:\n  level: info\n  tagz: [db]\n");
    auto result =
        muster::test::run({MUSTER_AGENT_BIN, "inventory", "--root", empty_root, "--config", path});
    CHECK(result.exit_code == 2);
    CHECK(result.out.empty());
    CHECK(result.err == "muster-agent: " + path +
                            ":6:3: unknown key 'tagz' in 'log' (expected one of: format, level)\n");
}

TEST_CASE("an unreadable config file is a config error too") {
    muster::test::temp_dir dir;
    auto result = muster::test::run({MUSTER_AGENT_BIN, "inventory", "--root", empty_root,
                                     "--config", dir.path() + "/absent.yaml"});
    CHECK(result.exit_code == 2);
    CHECK(result.err ==
          "muster-agent: " + dir.path() + "/absent.yaml: cannot read: No such file or directory\n");
}

TEST_CASE("the global option --log-level takes a known level, before the command") {
    auto bad = muster::test::run({MUSTER_AGENT_BIN, "--log-level", "loud", "version"});
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("unknown log level: loud") != std::string::npos);
    auto missing = muster::test::run({MUSTER_AGENT_BIN, "--log-level"});
    CHECK(missing.exit_code == 2);
    auto good = muster::test::run({MUSTER_AGENT_BIN, "--log-level", "debug", "version"});
    CHECK(good.exit_code == 0);
    CHECK(good.out.starts_with("muster-agent "));
}

TEST_CASE("configured tags appear as system.tags and logs stay off stdout") {
    muster::test::temp_dir dir;
    auto path = write_config(dir, "tags: [web, 'dc:par-2']\nlog:\n  format: json\n");
    auto result = muster::test::run({MUSTER_AGENT_BIN, "--log-level", "trace", "inventory",
                                     "--root", empty_root, "--config", path});
    REQUIRE(result.exit_code == 0);
    auto document = boost::json::parse(result.out).as_object();

    // Whatever was logged went to stderr, one JSON object per line.
    std::istringstream err(result.err);
    for (std::string line; std::getline(err, line);) {
        INFO(line);
        CHECK(boost::json::parse(line).as_object().at("level").is_string());
    }

    // Depends on collect_system (written separately) putting ctx.tags() into the section.
    const auto& system = document.at("system");
    if (!system.is_object()) FAIL("section 'system' is " << system << ": collect_system not ready");
    CHECK(system.as_object().at("tags") == boost::json::array{"web", "dc:par-2"});
}
