// Fuzz target: the collector's HTTP request handler (collector/routes.cpp api_handler, and
// behind it the admin API of collector/admin/), request in, response out, no socket, against
// a real SQLite CMDB opened once per process.
//
// The input is split as a request: "METHOD TARGET" on the first line, "Name: value" header
// lines up to an empty line, then the body. Placeholders let the fuzzer reach what it cannot
// forge: "@AGENT@" becomes the id of an enrolled agent, "@TOKEN@" the enrollment token,
// "@ADMIN@" an admin token, and a header "X-Muster-Signature: @SIGN@" the agent's
// signature of the body.
#include "collector/admin/admin_api.h"
#include "collector/admin/queries.h"
#include "collector/metrics.h"
#include "collector/routes.h"
#include "collector/sqlite_store.h"
#include "common/crypto.h"
#include "tests/fuzz/fuzz_support.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/http/serializer.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace {

using namespace muster;
using namespace muster::collector;

constexpr std::int64_t now = 1'764'000'000;
constexpr std::string_view enrollment_token = "fuzz-enrollment-token";
constexpr std::string_view admin_token = "fuzz-admin-token";

struct collector_under_test {
    collector_under_test() {
        agent_id =
            store->enroll_agent({key.public_raw(), "fuzz-1", {}, {}, {}}, true, now).agent_id;
        admin::admin_settings admin_settings;
        admin_settings.admin_token_sha256 = {sha256_hex(admin_token)};
        admin_settings.database = database;
        admin_settings.query_time = std::chrono::milliseconds(1000);
        admin_settings.query_rows = 1000;
        admin = std::make_unique<admin::admin_api>(*queries, *tokens, *store, &store->incidents(),
                                                   admin_settings, clock,
                                                   [this] { return metrics.render(); });
        api_settings settings;
        settings.enrollment_token_sha256 = {sha256_hex(enrollment_token)};
        settings.reports.max_decompressed = 1 << 20;
        api = std::make_unique<api_handler>(*store, writer, limiter, settings, clock);
        api->count_with(metrics);
        api->on_admin_request([this](const http_request& r) { return admin->handle(r); });
    }

    static std::int64_t clock() { return now; }

    std::filesystem::path database = fuzz::scratch().path() / "cmdb.sqlite";
    ed25519_key key = ed25519_key::generate();
    std::unique_ptr<cmdb_store> store = open_sqlite_store(database);
    ingest_writer writer{*store, {64, std::chrono::microseconds(0), 4096}, clock};
    rate_limiter limiter{1'000'000};
    std::unique_ptr<admin::admin_queries> queries =
        admin::open_sqlite_queries({database, {}, 1, std::chrono::seconds(0)});
    std::unique_ptr<admin::token_writer> tokens = admin::open_sqlite_token_writer(database);
    collector_metrics metrics{[this] { return read_cmdb_gauges(database); }};
    std::unique_ptr<admin::admin_api> admin;
    std::unique_ptr<api_handler> api;
    std::string agent_id;
};

collector_under_test& the_collector() {
    static auto* instance = [] {
        fuzz::log_to_scratch_file();
        return new collector_under_test;  // lives until exit: the writer thread must not stop early
    }();
    return *instance;
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
}

std::string_view next_line(std::string_view& text) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

http_request request_from(std::string_view text, const collector_under_test& c) {
    http_request request;
    auto first = next_line(text);
    auto space = first.find(' ');
    auto method = first.substr(0, space);
    auto verb = http::string_to_verb(method);
    if (verb == http::verb::unknown) {
        request.method_string(method);
    } else {
        request.method(verb);
    }
    request.target(space == std::string_view::npos ? "/" : first.substr(space + 1));
    request.version(11);
    bool sign = false;
    while (!text.empty()) {
        auto line = next_line(text);
        if (line.empty()) break;
        auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) continue;
        auto name = line.substr(0, colon);
        auto value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (value == "@SIGN@") {
            sign = true;
            continue;
        }
        request.insert(name, value);
    }
    request.body() = std::string(text);
    if (sign) request.set("X-Muster-Signature", base64_encode(c.key.sign(request.body())));
    request.prepare_payload();
    return request;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto& c = the_collector();
    std::string text(fuzz::as_text(data, size));
    replace_all(text, "@AGENT@", c.agent_id);
    replace_all(text, "@TOKEN@", enrollment_token);
    replace_all(text, "@ADMIN@", admin_token);
    auto request = request_from(text, c);
    boost::asio::io_context io;
    auto result =
        boost::asio::co_spawn(io, c.api->handle(request, "fuzz"), boost::asio::use_future);
    io.run();
    auto response = result.get();
    if (response.result_int() < 100 || response.result_int() > 599) {
        std::fprintf(stderr, "status %u\n", response.result_int());
        std::abort();
    }
    return 0;
}
