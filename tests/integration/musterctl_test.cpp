// musterctl against the real collector: `muster-collector init` and `serve` on a free loopback
// port, one real `muster-agent once` so there is a host, then musterctl as a user runs it.
#include "support/process.h"

#include <boost/json.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

using muster::test::background_process;
using muster::test::process_result;
using muster::test::run;

namespace {

namespace json = boost::json;

struct installation {
    muster::test::temp_dir dir;
    int port = muster::test::free_loopback_port();
    std::unique_ptr<background_process> collector;

    std::string path(const std::string& name) const { return dir.path() + "/" + name; }
    std::string c(const std::string& name) const { return path("c/" + name); }
    std::string url() const { return "https://127.0.0.1:" + std::to_string(port); }

    installation() {
        auto init = run({MUSTER_COLLECTOR_BIN, "init", "--dir", c(""), "--listen",
                         "127.0.0.1:" + std::to_string(port)});
        INFO(init.out << init.err);
        REQUIRE(init.exit_code == 0);
        std::filesystem::create_directories(path("home"));
        collector = std::make_unique<background_process>(
            std::vector<std::string>{MUSTER_COLLECTOR_BIN, "serve", "--config",
                                     c("collector.yaml")},
            path("collector.log"));
        REQUIRE(muster::test::wait_for_port(port));
        auto agent = run({MUSTER_AGENT_BIN, "once", "--config", c("agent.yaml")});
        INFO(agent.out << agent.err);
        REQUIRE(agent.exit_code == 0);
    }

    // musterctl with a clean environment: HOME is an empty directory and the MUSTER_*
    // variables are only those given.
    process_result ctl(const std::vector<std::string>& args,
                       const std::vector<std::string>& environment = {}) const {
        std::vector<std::string> argv = {
            "/usr/bin/env", "-u", "MUSTER_URL",     "-u",
            "MUSTER_TOKEN", "-u", "MUSTER_CA_FILE", "HOME=" + path("home")};
        argv.insert(argv.end(), environment.begin(), environment.end());
        argv.push_back(MUSTER_CTL_BIN);
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv);
    }
    // With the ctl.yaml init wrote (the admin token).
    process_result admin(std::vector<std::string> args) const {
        args.insert(args.begin(), {"--config", c("ctl.yaml")});
        return ctl(args);
    }
    json::value admin_json(std::vector<std::string> args) const {
        args.insert(args.begin(), {"--format", "json"});
        auto r = admin(args);
        INFO(r.out << r.err);
        REQUIRE(r.exit_code == 0);
        return json::parse(r.out);
    }
    std::string admin_token() const {
        std::ifstream in(c("ctl.yaml"));
        std::string line;
        while (std::getline(in, line)) {
            if (line.rfind("token: ", 0) == 0) {
                auto value = line.substr(7);
                if (value.size() >= 2 && value.front() == '"')
                    value = value.substr(1, value.size() - 2);
                return value;
            }
        }
        FAIL("no token in ctl.yaml");
        return "";
    }
};

installation& shared() {
    static installation inst;  // one collector and one host for every test case
    return inst;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
    }
    return lines;
}

}  // namespace

TEST_CASE("version needs no configuration") {
    auto r = shared().ctl({"version"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("musterctl ", 0) == 0);
}

TEST_CASE("hosts as json, csv and a table") {
    auto& inst = shared();
    auto hosts = inst.admin_json({"hosts"});
    REQUIRE(hosts.is_array());
    REQUIRE(hosts.as_array().size() == 1);
    const auto& host = hosts.as_array()[0].as_object();
    for (auto key : {"id", "hostname", "os", "state", "last_seen"}) CHECK(host.contains(key));
    CHECK(host.at("state") == "active");
    std::string hostname(host.at("hostname").as_string());
    CHECK(!hostname.empty());

    auto csv = inst.admin({"--format", "csv", "hosts"});
    REQUIRE(csv.exit_code == 0);
    auto rows = lines_of(csv.out);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].rfind("id,hostname,", 0) == 0);
    CHECK(rows[1].find("," + hostname + ",") != std::string::npos);

    auto table = inst.admin({"hosts"});  // table is the default
    REQUIRE(table.exit_code == 0);
    auto lines = lines_of(table.out);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].rfind("ID", 0) == 0);
    CHECK(lines[0].find("HOSTNAME") != std::string::npos);
    CHECK(lines[1].find(hostname) != std::string::npos);
    // Aligned: the hostname column starts at the same offset in both lines.
    CHECK(lines[0].find("HOSTNAME") == lines[1].find(hostname));

    auto by_state = inst.admin_json({"hosts", "--state", "retired"});
    CHECK(by_state.as_array().empty());
}

TEST_CASE("a host by name and by id, its history, the software catalogue") {
    auto& inst = shared();
    auto hosts = inst.admin_json({"hosts"});
    const auto& first = hosts.as_array().at(0).as_object();
    std::string hostname(first.at("hostname").as_string());
    std::string id = std::to_string(first.at("id").as_int64());

    auto by_name = inst.admin_json({"host", hostname});
    REQUIRE(by_name.is_object());
    CHECK(by_name.at("hostname") == json::value(hostname));
    CHECK(by_name.as_object().contains("software"));
    CHECK(inst.admin_json({"host", id}).at("hostname") == json::value(hostname));

    auto history = inst.admin_json({"history", hostname, "--since", "1d"});
    REQUIRE(history.is_array());
    REQUIRE(!history.as_array().empty());
    bool discovered = false;
    for (const auto& record : history.as_array())
        discovered = discovered || record.at("change") == "discovered";
    CHECK(discovered);
    auto future = inst.admin_json({"history", hostname, "--since", "4102444800"});  // 2100
    CHECK(future.as_array().empty());

    auto catalogue = inst.admin_json({"software", "--all"});
    REQUIRE(catalogue.is_array());
    const auto& software = by_name.at("software").as_array();
    if (!software.empty()) {  // a machine with a package database
        REQUIRE(!catalogue.as_array().empty());
        std::string name(software[0].at("name").as_string());
        auto package = inst.admin_json({"software", name});
        CHECK(package.at("name") == json::value(name));
        CHECK(!package.at("versions").as_array().empty());
        auto having = inst.admin_json({"hosts", "--software", name});
        CHECK(having.as_array().size() == 1);
        auto absent = inst.admin_json({"hosts", "--software", "no-such-package-xyz"});
        CHECK(absent.as_array().empty());
    }
}

TEST_CASE("sql answers an array of objects, a write is refused with exit code 1") {
    auto& inst = shared();
    auto answer = inst.admin_json({"sql", "SELECT count(*) AS n, 'x' AS s FROM cis"});
    CHECK(answer == json::parse(R"([{"n": 1, "s": "x"}])"));

    auto csv = inst.admin({"--format", "csv", "sql", "SELECT 1 AS a, 'b,c' AS b"});
    REQUIRE(csv.exit_code == 0);
    CHECK(lines_of(csv.out) == std::vector<std::string>{"a,b", "1,\"b,c\""});

    auto refused = inst.admin({"sql", "DELETE FROM cis"});
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("query_refused") != std::string::npos);
    CHECK(inst.admin_json({"sql", "SELECT count(*) AS n FROM cis"}).at(0).at("n") == 1);
}

TEST_CASE("exit codes: unreachable, unauthorized, forbidden, not found, usage") {
    auto& inst = shared();
    std::vector<std::string> env = {"MUSTER_URL=" + inst.url(),
                                    "MUSTER_CA_FILE=" + inst.c("ca.pem")};

    // Unreachable: a port nobody listens on.
    int closed = muster::test::free_loopback_port();
    auto unreachable =
        inst.ctl({"hosts"}, {"MUSTER_URL=https://127.0.0.1:" + std::to_string(closed),
                             "MUSTER_TOKEN=x", "MUSTER_CA_FILE=" + inst.c("ca.pem")});
    CHECK(unreachable.exit_code == 3);
    CHECK(unreachable.err.find("cannot reach") != std::string::npos);

    // A certificate the system store does not trust is as unreachable (verification is on).
    auto untrusted = inst.ctl({"hosts"}, {"MUSTER_URL=" + inst.url(), "MUSTER_TOKEN=x"});
    CHECK(untrusted.exit_code == 3);

    // 401: a wrong token from the environment.
    auto env_bad = env;
    env_bad.push_back("MUSTER_TOKEN=not-a-valid-token");
    auto unauthorized = inst.ctl({"hosts"}, env_bad);
    CHECK(unauthorized.exit_code == 4);
    CHECK(unauthorized.err.find("401") != std::string::npos);

    // The right token from the environment works.
    auto env_good = env;
    env_good.push_back("MUSTER_TOKEN=" + inst.admin_token());
    CHECK(inst.ctl({"hosts"}, env_good).exit_code == 0);

    // 403: a viewer token may read but not run SQL nor list tokens.
    auto made = inst.admin_json({"token", "create", "reader", "--role", "viewer"});
    REQUIRE(made.at("token").is_string());
    auto env_viewer = env;
    env_viewer.push_back("MUSTER_TOKEN=" + std::string(made.at("token").as_string()));
    CHECK(inst.ctl({"hosts"}, env_viewer).exit_code == 0);
    auto forbidden = inst.ctl({"sql", "SELECT 1"}, env_viewer);
    CHECK(forbidden.exit_code == 5);
    CHECK(inst.ctl({"token", "list"}, env_viewer).exit_code == 5);
    auto tokens = inst.admin_json({"token", "list"});
    bool listed = false;
    for (const auto& token : tokens.as_array()) {
        listed = listed || token.at("name") == "reader";
        CHECK_FALSE(token.as_object().contains("token"));  // never shown again
    }
    CHECK(listed);

    // 404: an unknown host.
    auto missing = inst.admin({"host", "no-such-host-xyz"});
    CHECK(missing.exit_code == 6);

    // 2: usage and configuration errors.
    CHECK(inst.admin({"hosts", "--bogus"}).exit_code == 2);
    CHECK(inst.admin({"frobnicate"}).exit_code == 2);
    CHECK(inst.admin({"--format", "xml", "hosts"}).exit_code == 2);
    CHECK(inst.admin({"hosts", "--limit", "0"}).exit_code == 2);
    auto no_config = inst.ctl({"hosts"});
    CHECK(no_config.exit_code == 2);
    CHECK(no_config.err.find("MUSTER_URL") != std::string::npos);
    auto bad_url = inst.ctl({"hosts"}, {"MUSTER_URL=http://127.0.0.1:1", "MUSTER_TOKEN=x"});
    CHECK(bad_url.exit_code == 2);
}

TEST_CASE("the home ctl.yaml is used when nothing else is given") {
    auto& inst = shared();
    std::filesystem::create_directories(inst.path("home/.config/muster"));
    std::filesystem::copy_file(inst.c("ctl.yaml"), inst.path("home/.config/muster/ctl.yaml"),
                               std::filesystem::copy_options::overwrite_existing);
    auto r = inst.ctl({"--format", "json", "agents"});
    std::filesystem::remove(inst.path("home/.config/muster/ctl.yaml"));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto agents = json::parse(r.out);
    REQUIRE(agents.as_array().size() == 1);
    CHECK(agents.at(0).at("status") == "active");
}

TEST_CASE("incidents, problems and services list (possibly empty) arrays") {
    auto& inst = shared();
    CHECK(inst.admin_json({"incidents"}).is_array());
    CHECK(inst.admin_json({"incidents", "--state", "open"}).is_array());
    CHECK(inst.admin_json({"problems"}).is_array());
    CHECK(inst.admin_json({"services"}).is_array());
    CHECK(inst.admin({"incident", "show", "999999"}).exit_code == 6);
}
