#include "collector/config.h"

#include <catch2/catch.hpp>

#include <string>

namespace {

using namespace muster;
using namespace muster::collector;
using namespace std::chrono_literals;

const std::string hash(64, 'a');

std::string minimal(const std::string& extra = "") {
    return "tls: {cert_file: s.pem, key_file: s.key}\ndatabase: cmdb.sqlite\n" + extra;
}

collector_config read(const std::string& text) {
    return read_collector_config(load_yaml_string(text, "collector.yaml"), "/etc/muster");
}

std::string error_of(const std::string& text) {
    try {
        read(text);
    } catch (const config_error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("the documented example config/collector.yaml is valid", "[collector][config]") {
    auto config = load_collector_config(std::string(MUSTER_SOURCE_DIR) + "/config/collector.yaml");
    CHECK(config.listen.host == "127.0.0.1");
    CHECK(config.listen.port == 8443);
    CHECK(config.tls_cert_file == "/etc/muster/server.pem");
    CHECK(config.database == "/var/lib/muster/cmdb.sqlite");
    CHECK(config.enrollment_token_sha256.size() == 1);
    CHECK(config.limits.max_body == 32ull << 20);
}

TEST_CASE("defaults of every optional key", "[collector][config]") {
    auto config = read(minimal());
    CHECK(format_listen_address(config.listen) == "127.0.0.1:8443");
    CHECK(config.tls_cert_file == "/etc/muster/s.pem");  // relative to the file's directory
    CHECK(config.database == "/etc/muster/cmdb.sqlite");
    CHECK(config.enrollment == enrollment_mode::auto_approve);
    CHECK(config.enrollment_token_sha256.empty());
    CHECK(config.limits.max_body == 32ull << 20);
    CHECK(config.limits.max_decompressed == 256ull << 20);
    CHECK(config.limits.header_timeout == 10s);
    CHECK(config.limits.read_timeout == 30s);
    CHECK(config.limits.idle_timeout == 60s);
    CHECK(config.limits.max_connections == 1024);
    CHECK(config.limits.agent_rate_per_minute == 60);
    CHECK(config.clock_skew == 300s);
    CHECK(config.log.level == "info");
}

TEST_CASE("every key is read", "[collector][config]") {
    auto config = read(minimal(
        "listen: '[::1]:9000'\nenrollment: {mode: approve, token_sha256: [" + hash +
        "]}\nadmin: {token_sha256: [" + hash +
        "]}\nlimits: {max_body: 1MiB, max_decompressed: 8MiB, header_timeout: 2s, "
        "read_timeout: 3s, idle_timeout: 4s, max_connections: 5, agent_rate_per_minute: 6}\n"
        "clock_skew: 90s\nlog: {level: debug, format: json}\n"));
    CHECK(config.listen.host == "::1");
    CHECK(config.listen.port == 9000);
    CHECK(config.enrollment == enrollment_mode::approve);
    CHECK(config.enrollment_token_sha256 == std::vector<std::string>{hash});
    CHECK(config.admin_token_sha256 == std::vector<std::string>{hash});
    CHECK(config.limits.max_body == 1 << 20);
    CHECK(config.limits.max_decompressed == 8 << 20);
    CHECK(config.limits.header_timeout == 2s);
    CHECK(config.limits.read_timeout == 3s);
    CHECK(config.limits.idle_timeout == 4s);
    CHECK(config.limits.max_connections == 5);
    CHECK(config.limits.agent_rate_per_minute == 6);
    CHECK(config.clock_skew == 90s);
    CHECK(config.log.format == log_format::json);
}

TEST_CASE("invalid collector configurations name the problem", "[collector][config]") {
    CHECK_THAT(error_of("database: x\n"), Catch::Contains("cert_file"));
    CHECK_THAT(error_of(minimal("listen: 8443\n")), Catch::Contains("HOST:PORT"));
    CHECK_THAT(error_of(minimal("listen: '::1:8443'\n")), Catch::Contains("HOST:PORT"));
    CHECK_THAT(error_of(minimal("enrollment: {token_sha256: [abc]}\n")),
               Catch::Contains("64 lowercase hex"));
    CHECK_THAT(error_of(minimal("enrollment: {mode: sometimes}\n")), Catch::Contains("mode"));
    CHECK_THAT(error_of(minimal("limits: {max_bodyy: 1MiB}\n")), Catch::Contains("max_bodyy"));
    CHECK_THAT(error_of(minimal("limits: {max_body: 2GiB, max_decompressed: 1GiB}\n")),
               Catch::Contains("at least max_body"));
    CHECK_THAT(error_of(minimal("limits: {max_connections: 0}\n")),
               Catch::Contains("max_connections"));
    CHECK_THAT(error_of(minimal("clock_skew: forever\n")), Catch::Contains("clock_skew"));
    CHECK_THAT(error_of(minimal("surprise: 1\n")), Catch::Contains("unknown key 'surprise'"));
}

TEST_CASE("listen addresses", "[collector][config]") {
    CHECK(parse_listen_address("cmdb.example.org:443")->host == "cmdb.example.org");
    CHECK(parse_listen_address("0.0.0.0:1")->port == 1);
    CHECK(!parse_listen_address("host:0"));
    CHECK(!parse_listen_address("host:65536"));
    CHECK(!parse_listen_address("host:"));
    CHECK(!parse_listen_address(":80"));
    CHECK(!parse_listen_address("[nothost]:80"));
    CHECK(format_listen_address({"::1", 8443}) == "[::1]:8443");
}
