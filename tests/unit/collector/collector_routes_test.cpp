// The API handler without a socket: requests are built in memory and handle() runs in a
// plain io_context, against the real SQLite store and ingest writer.
#include "collector/routes.h"
#include "collector/sqlite_store.h"
#include "common/crypto.h"
#include "common/gzip.h"
#include "common/inventory_state.h"
#include "support/process.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

namespace {

using namespace muster;
using namespace muster::collector;
namespace json = boost::json;

constexpr std::string_view enrollment_token = "the-enrollment-token";

struct api_fixture {
    explicit api_fixture(enrollment_mode mode = enrollment_mode::auto_approve,
                         std::uint32_t rate_per_minute = 60,
                         std::size_t max_decompressed = 1 << 20) {
        api_settings settings;
        settings.enrollment = mode;
        settings.enrollment_token_sha256 = {sha256_hex("an-old-token"),
                                            sha256_hex(enrollment_token)};
        settings.reports.max_decompressed = max_decompressed;
        limiter = std::make_unique<rate_limiter>(rate_per_minute);
        api = std::make_unique<api_handler>(*store, writer, *limiter, settings,
                                            [this] { return now; });
    }

    http_response call(http_request request) {
        request.prepare_payload();
        boost::asio::io_context io;
        auto result =
            boost::asio::co_spawn(io, api->handle(request, "test-peer"), boost::asio::use_future);
        io.run();
        return result.get();
    }

    http_response enroll(const ed25519_key& key, std::string_view token = enrollment_token) {
        http_request request{http::verb::post, "/api/v1/enroll", 11};
        json::object facts{{"hostname", "web-1"},
                           {"machine_id", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}};
        request.body() = json::serialize(json::object{
            {"token", token}, {"public_key", base64_encode(key.public_raw())}, {"facts", facts}});
        return call(std::move(request));
    }

    std::string enrolled_agent(const ed25519_key& key) {
        auto response = enroll(key);
        REQUIRE(response.result() == http::status::ok);
        return std::string(json::parse(response.body()).at("agent_id").as_string());
    }

    http_response send(const std::string& agent_id, const std::string& body,
                       const std::string& signature) {
        http_request request{http::verb::post, "/api/v1/reports", 11};
        request.set(http::field::content_type, "application/json");
        request.set(http::field::content_encoding, "gzip");
        request.set("X-Muster-Agent-Id", agent_id);
        request.set("X-Muster-Signature", base64_encode(signature));
        request.body() = body;
        return call(std::move(request));
    }

    http_response send_signed(const ed25519_key& key, const std::string& agent_id,
                              const std::string& body) {
        return send(agent_id, body, key.sign(body));
    }

    std::int64_t now = 1'764'000'000;
    test::temp_dir dir;
    std::unique_ptr<cmdb_store> store = open_sqlite_store(dir.path() + "/cmdb.sqlite");
    ingest_writer writer{*store, {}, [this] { return now; }};
    std::unique_ptr<rate_limiter> limiter;
    std::unique_ptr<api_handler> api;
};

json::object inventory(const std::string& hostname) {
    return json::object{
        {"schema_version", 1},
        {"system",
         json::object{{"hostname", hostname}, {"machine_id", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}}},
        {"hardware", json::object{{"serial", "SN-1"},
                                  {"product_uuid", "4c4c4544-0042-3510-8051-b7c04f4e4a32"}}},
        {"software",
         json::array{json::object{
             {"source", "deb"}, {"name", "bash"}, {"arch", "amd64"}, {"version", "5.2"}}}}};
}

std::string full_report(const std::string& agent_id, std::int64_t seq, std::int64_t sent_at,
                        const std::string& hostname = "web-1") {
    auto inv = inventory(hostname);
    json::object report{{"protocol", 1},
                        {"agent_id", agent_id},
                        {"seq", seq},
                        {"sent_at", sent_at},
                        {"kind", "full"},
                        {"base_seq", 0},
                        {"state_hash", state_hash(make_state(inv))},
                        {"inventory", inv}};
    return gzip_compress(json::serialize(report));
}

std::string error_code_of(const http_response& response) {
    return std::string(json::parse(response.body()).at("error").at("code").as_string());
}

}  // namespace

TEST_CASE("healthz answers ok and unknown paths 404", "[collector][routes]") {
    api_fixture f;
    auto health = f.call(http_request{http::verb::get, "/healthz", 11});
    CHECK(health.result() == http::status::ok);
    CHECK(json::parse(health.body()).at("status") == "ok");
    auto missing = f.call(http_request{http::verb::get, "/nope", 11});
    CHECK(missing.result() == http::status::not_found);
    CHECK(error_code_of(missing) == "not_found");
    auto wrong_method = f.call(http_request{http::verb::get, "/api/v1/reports", 11});
    CHECK(wrong_method.result() == http::status::method_not_allowed);
}

TEST_CASE("enrollment with a configured token is idempotent by key", "[collector][routes]") {
    api_fixture f;
    auto key = ed25519_key::generate();
    auto first = f.enroll(key);
    REQUIRE(first.result() == http::status::ok);
    auto answer = json::parse(first.body());
    CHECK(answer.at("status") == "active");
    CHECK(!answer.at("agent_id").as_string().empty());
    auto again = f.enroll(key);
    CHECK(json::parse(again.body()).at("agent_id") == answer.at("agent_id"));
    // Every configured token is accepted (rotation).
    CHECK(f.enroll(ed25519_key::generate(), "an-old-token").result() == http::status::ok);
}

TEST_CASE("enrollment refuses a wrong token and a malformed key", "[collector][routes]") {
    api_fixture f;
    auto bad = f.enroll(ed25519_key::generate(), "the-enrollment-tokem");
    CHECK(bad.result() == http::status::unauthorized);
    CHECK(error_code_of(bad) == "bad_token");

    http_request request{http::verb::post, "/api/v1/enroll", 11};
    request.body() = json::serialize(
        json::object{{"token", enrollment_token}, {"public_key", base64_encode("short")}});
    auto malformed = f.call(request);
    CHECK(malformed.result() == http::status::bad_request);
    CHECK(error_code_of(malformed) == "malformed");
    request.body() = "{not json";
    CHECK(f.call(request).result() == http::status::bad_request);
}

TEST_CASE("approve mode answers 202 pending and refuses the pending agent's reports",
          "[collector][routes]") {
    api_fixture f(enrollment_mode::approve);
    auto key = ed25519_key::generate();
    auto response = f.enroll(key);
    REQUIRE(response.result() == http::status::accepted);
    auto answer = json::parse(response.body());
    CHECK(answer.at("status") == "pending");
    std::string id(answer.at("agent_id").as_string());
    auto refused = f.send_signed(key, id, full_report(id, 1, f.now));
    CHECK(refused.result() == http::status::forbidden);
    CHECK(error_code_of(refused) == "pending");

    REQUIRE(f.store->set_agent_status(id, agent_status::active));
    CHECK(f.enroll(key).result() == http::status::ok);
    CHECK(f.send_signed(key, id, full_report(id, 1, f.now)).result() == http::status::ok);

    REQUIRE(f.store->set_agent_status(id, agent_status::revoked));
    auto revoked = f.send_signed(key, id, full_report(id, 2, f.now));
    CHECK(revoked.result() == http::status::forbidden);
    CHECK(error_code_of(revoked) == "revoked");
    CHECK(f.enroll(key).result() == http::status::forbidden);
}

TEST_CASE("a correctly signed report is acknowledged after commit", "[collector][routes]") {
    api_fixture f;
    auto key = ed25519_key::generate();
    auto id = f.enrolled_agent(key);
    auto response = f.send_signed(key, id, full_report(id, 1, f.now));
    REQUIRE(response.result() == http::status::ok);
    auto ack = json::parse(response.body());
    CHECK(ack.at("status") == "ok");
    CHECK(ack.at("seq") == 1);
    CHECK(ack.at("state_hash").as_string() == state_hash(make_state(inventory("web-1"))));
    CHECK(f.store->find_agent(id)->last_seq == 1);
}

TEST_CASE("a report with one flipped byte is refused 401", "[collector][routes]") {
    api_fixture f;
    auto key = ed25519_key::generate();
    auto id = f.enrolled_agent(key);
    std::string body = full_report(id, 1, f.now);
    std::string signature = key.sign(body);
    body[body.size() / 2] ^= 0x01;
    auto response = f.send(id, body, signature);
    CHECK(response.result() == http::status::unauthorized);
    CHECK(error_code_of(response) == "bad_signature");
    CHECK(f.store->find_agent(id)->last_seq == 0);
}

TEST_CASE("an unauthenticated body is never decompressed or parsed", "[collector][routes]") {
    api_fixture f;
    auto key = ed25519_key::generate();
    auto id = f.enrolled_agent(key);
    const std::string garbage = "neither gzip nor JSON";
    // Signed: it gets as far as the decompressor, which says so.
    auto signed_garbage = f.send_signed(key, id, garbage);
    CHECK(signed_garbage.result() == http::status::bad_request);
    CHECK(error_code_of(signed_garbage) == "malformed");
    // The same bytes unsigned (signature of other bytes, or by another key): refused before.
    auto other_bytes = f.send(id, garbage, key.sign("other bytes"));
    CHECK(other_bytes.result() == http::status::unauthorized);
    CHECK(error_code_of(other_bytes) == "bad_signature");
    auto other_key = f.send(id, garbage, ed25519_key::generate().sign(garbage));
    CHECK(error_code_of(other_key) == "bad_signature");
    CHECK(error_code_of(f.send(id, garbage, "")) == "bad_signature");
}

TEST_CASE("unknown agents are refused 401", "[collector][routes]") {
    api_fixture f;
    auto key = ed25519_key::generate();
    auto response = f.send_signed(key, "no-such-agent", full_report("no-such-agent", 1, f.now));
    CHECK(response.result() == http::status::unauthorized);
    CHECK(error_code_of(response) == "unknown_agent");
    CHECK(error_code_of(f.send_signed(key, "", "x")) == "unknown_agent");
}

TEST_CASE("a replay is refused, an identical resend gets the original ack", "[collector][routes]") {
    api_fixture f;
    auto key = ed25519_key::generate();
    auto id = f.enrolled_agent(key);
    std::string body = full_report(id, 1, f.now);
    auto first = f.send_signed(key, id, body);
    REQUIRE(first.result() == http::status::ok);
    auto resend = f.send_signed(key, id, body);
    CHECK(resend.result() == http::status::ok);
    CHECK(resend.body() == first.body());
    auto replay = f.send_signed(key, id, full_report(id, 1, f.now, "other-name"));
    CHECK(replay.result() == http::status::conflict);
    CHECK(error_code_of(replay) == "replay");
}

TEST_CASE("sent_at ahead of the clock skew is refused with the offset, old spooled reports pass",
          "[collector][routes]") {
    api_fixture f;
    auto key = ed25519_key::generate();
    auto id = f.enrolled_agent(key);
    auto early = f.send_signed(key, id, full_report(id, 1, f.now + 1000));
    CHECK(early.result() == http::status::bad_request);
    CHECK(error_code_of(early) == "clock_skew");
    auto message = std::string(json::parse(early.body()).at("error").at("message").as_string());
    CHECK(message.find("1000 s ahead") != std::string::npos);
    CHECK(error_code_of(f.send_signed(key, id, full_report(id, 1, f.now + 301))) == "clock_skew");
    CHECK(f.send_signed(key, id, full_report(id, 1, f.now - 86400)).result() == http::status::ok);
    CHECK(f.send_signed(key, id, full_report(id, 2, f.now + 300)).result() == http::status::ok);
}

// Found by tests/fuzz/report_fuzz.cpp: sent_at minus now overflowed (UBSan) at the extremes.
TEST_CASE("sent_at at the limits of int64 is judged without overflow", "[collector][routes]") {
    api_fixture f;
    auto key = ed25519_key::generate();
    auto id = f.enrolled_agent(key);
    auto far_future = f.send_signed(key, id, full_report(id, 1, INT64_MAX));
    CHECK(error_code_of(far_future) == "clock_skew");
    CHECK(std::string(json::parse(far_future.body()).at("error").at("message").as_string())
              .find(std::to_string(std::uint64_t(INT64_MAX) - std::uint64_t(f.now))) !=
          std::string::npos);
    CHECK(f.send_signed(key, id, full_report(id, 1, INT64_MIN)).result() == http::status::ok);
}

TEST_CASE("a body that decompresses beyond the cap is refused 413", "[collector][routes]") {
    api_fixture f(enrollment_mode::auto_approve, 60, 4096);
    auto key = ed25519_key::generate();
    auto id = f.enrolled_agent(key);
    std::string bomb = gzip_compress(std::string(100'000, ' '), 9);
    REQUIRE(bomb.size() < 4096);
    auto response = f.send_signed(key, id, bomb);
    CHECK(response.result() == http::status::payload_too_large);
    CHECK(error_code_of(response) == "too_large");
}

TEST_CASE("envelope fields must match the agent and the protocol", "[collector][routes]") {
    api_fixture f;
    auto key = ed25519_key::generate();
    auto id = f.enrolled_agent(key);
    auto other = f.send_signed(key, id, full_report("someone-else", 1, f.now));
    CHECK(other.result() == http::status::bad_request);
    CHECK(error_code_of(other) == "malformed");
    auto not_object = f.send_signed(key, id, gzip_compress("[1,2]"));
    CHECK(error_code_of(not_object) == "malformed");
}

TEST_CASE("an agent above its rate gets 429 with Retry-After", "[collector][routes]") {
    api_fixture f(enrollment_mode::auto_approve, 2);
    auto key = ed25519_key::generate();
    auto id = f.enrolled_agent(key);
    CHECK(f.send_signed(key, id, full_report(id, 1, f.now)).result() == http::status::ok);
    CHECK(f.send_signed(key, id, full_report(id, 2, f.now)).result() == http::status::ok);
    auto limited = f.send_signed(key, id, full_report(id, 3, f.now));
    CHECK(limited.result() == http::status::too_many_requests);
    CHECK(error_code_of(limited) == "rate_limited");
    CHECK(limited[http::field::retry_after] == "30");
}
