// The transport limits of the real muster-collector (issue 5 "Limits") over real TLS on
// loopback: a slow header and a stalled body are cut at their timeouts (slowloris), a client
// beyond max_connections is answered 503, a body above max_body 413 before it is sent, a gzip
// bomb 413, an agent sending too often 429 with Retry-After; and each is logged with its
// reason.
#include "common/crypto.h"
#include "common/gzip.h"
#include "common/inventory_state.h"
#include "support/https_client.h"
#include "support/limited_collector.h"
#include "support/process.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace {

using namespace muster;
namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

using test::limit_values;
using collector_instance = test::limited_collector;

// A raw TLS connection that sends exactly the bytes a test gives it, so a test can be the
// slow or misbehaving client a normal HTTP library never is.
class raw_client {
  public:
    raw_client(int port, const std::string& ca_file) : tls_(asio::ssl::context::tls_client) {
        tls_.set_verify_mode(asio::ssl::verify_peer);
        tls_.load_verify_file(ca_file);
        stream_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(io_, tls_);
        asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"),
                                         static_cast<std::uint16_t>(port));
        stream_->lowest_layer().connect(endpoint);
        bool done = false;
        boost::system::error_code result;
        stream_->async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code ec) {
            result = ec;
            done = true;
        });
        run_until(done, 60s);
        REQUIRE(done);
        REQUIRE_FALSE(result);
        start_reading();
    }

    void send(const std::string& bytes) {
        bool done = false;
        asio::async_write(*stream_, asio::buffer(bytes),
                          [&](boost::system::error_code, std::size_t) { done = true; });
        run_until(done, 30s);
    }

    // Sends bytes one at a time, one every `every`, until the server closes the connection
    // (true) or `limit` passes (false).
    bool drip_until_closed(const std::string& bytes, std::chrono::milliseconds every,
                           std::chrono::seconds limit) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        for (std::size_t i = 0; !closed_ && std::chrono::steady_clock::now() < deadline; ++i) {
            send(std::string(1, bytes[i % bytes.size()]));
            io_.restart();
            io_.run_for(every);
        }
        return closed_;
    }

    // Waits until the server closes the connection; what it sent meanwhile is received().
    bool wait_closed(std::chrono::seconds limit) {
        run_until(closed_, limit);
        return closed_;
    }
    const std::string& received() const { return received_; }

  private:
    void start_reading() {
        stream_->async_read_some(asio::buffer(chunk_),
                                 [this](boost::system::error_code ec, std::size_t n) {
                                     received_.append(chunk_.data(), n);
                                     if (ec) {
                                         closed_ = true;
                                         return;
                                     }
                                     start_reading();
                                 });
    }
    void run_until(const bool& flag, std::chrono::seconds limit) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (!flag && std::chrono::steady_clock::now() < deadline) {
            io_.restart();
            io_.run_for(50ms);
        }
    }

    asio::io_context io_;
    asio::ssl::context tls_;
    std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket>> stream_;
    std::array<char, 4096> chunk_{};
    std::string received_;
    bool closed_ = false;
};

// A synchronous HTTPS client for GET /healthz back to back on one keep-alive connection.
class keep_alive_client {
  public:
    keep_alive_client(int port, const std::string& ca_file) : tls_(asio::ssl::context::tls_client) {
        tls_.set_verify_mode(asio::ssl::verify_peer);
        tls_.load_verify_file(ca_file);
        stream_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(io_, tls_);
        boost::system::error_code ec;
        stream_->lowest_layer().connect(
            {asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(port)}, ec);
        if (!ec) stream_->handshake(asio::ssl::stream_base::client, ec);
        open_ = !ec;
    }
    bool open() const { return open_; }
    // The status of the answer, or 0 when the collector closed the connection instead.
    int get(bool keep_alive) {
        namespace http = boost::beast::http;
        if (!open_) return 0;
        http::request<http::empty_body> request{http::verb::get, "/healthz", 11};
        request.set(http::field::host, "127.0.0.1");
        request.keep_alive(keep_alive);
        boost::system::error_code ec;
        http::write(*stream_, request, ec);
        http::response<http::string_body> response;
        if (!ec) http::read(*stream_, buffer_, response, ec);
        open_ = !ec && response.keep_alive();
        return ec ? 0 : response.result_int();
    }

  private:
    asio::io_context io_;
    asio::ssl::context tls_;
    std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket>> stream_;
    boost::beast::flat_buffer buffer_;
    bool open_ = false;
};

// Plain text to the TLS port: the handshake fails at once. Returns when the collector has
// closed the connection.
void plain_http_to_tls_port(int port) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    boost::system::error_code ec;
    socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(port)}, ec);
    if (ec) return;
    asio::write(socket, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), ec);
    std::array<char, 512> sink{};
    while (!ec) socket.read_some(asio::buffer(sink), ec);
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

struct agent {
    ed25519_key key = ed25519_key::generate();
    std::string id;

    agent(collector_instance& collector, const std::string& hostname) {
        auto token = collector.config_value("agent.yaml", "enrollment_token");
        REQUIRE(token.size() > 20);
        auto enrolled = test::https_post(
            collector.url + "/api/v1/enroll", {{"Content-Type", "application/json"}},
            json::serialize(json::object{{"token", token},
                                         {"public_key", base64_encode(key.public_raw())},
                                         {"facts", json::object{{"hostname", hostname}}}}),
            collector.ca);
        REQUIRE(enrolled.status == 200);
        id = std::string(json::parse(enrolled.body).at("agent_id").as_string());
    }
    test::https_response post(collector_instance& collector, const std::string& body) {
        return test::https_post(collector.url + "/api/v1/reports",
                                {{"Content-Type", "application/json"},
                                 {"Content-Encoding", "gzip"},
                                 {"X-Muster-Agent-Id", id},
                                 {"X-Muster-Signature", base64_encode(key.sign(body))}},
                                body, collector.ca);
    }
    std::string full_report(const std::string& hostname) {
        json::object inventory{
            {"schema_version", 1},
            {"system", json::object{{"hostname", hostname},
                                    {"machine_id", sha256_hex(hostname).substr(0, 32)}}}};
        json::object report{{"protocol", 1},
                            {"agent_id", id},
                            {"seq", 1},
                            {"sent_at", static_cast<std::int64_t>(std::time(nullptr))},
                            {"kind", "full"},
                            {"base_seq", 0},
                            {"state_hash", state_hash(make_state(inventory))},
                            {"inventory", inventory}};
        return gzip_compress(json::serialize(report));
    }
};

}  // namespace

TEST_CASE("a request header sent slowly is cut at header_timeout", "[collector][limits]") {
    collector_instance collector(limit_values{{"header_timeout", "1s"}});
    raw_client slow(collector.port, collector.ca);
    slow.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    // One byte every 200 ms keeps a per-read timeout happy forever; header_timeout is for the
    // whole header.
    CHECK(slow.drip_until_closed("X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 200ms, 120s));
    CHECK(slow.received().find("HTTP/1.1 200") == std::string::npos);
    CHECK(collector.log_shows("no complete request header in time"));
}

TEST_CASE("a body that stalls is cut at read_timeout", "[collector][limits]") {
    collector_instance collector(limit_values{{"read_timeout", "1s"}});
    raw_client stalled(collector.port, collector.ca);
    stalled.send(
        "POST /api/v1/enroll HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 5000\r\n\r\n{\"token\": ");
    CHECK(stalled.drip_until_closed("a", 200ms, 120s));
    CHECK(collector.log_shows("request body not received within read_timeout"));
}

TEST_CASE("a body above max_body is answered 413 before it is sent", "[collector][limits]") {
    collector_instance collector(limit_values{{"max_body", "64KiB"}, {"max_decompressed", "1MiB"}});
    raw_client big(collector.port, collector.ca);
    // Only the header: the answer must not wait for the 10 MB it announces.
    big.send(
        "POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 10000000\r\n\r\n");
    CHECK(big.wait_closed(120s));
    CHECK(big.received().starts_with("HTTP/1.1 413"));
    CHECK(big.received().find("too_large") != std::string::npos);
    CHECK(collector.log_shows("413 too_large: body above 65536 bytes"));
}

TEST_CASE("beyond max_connections with every request in hand a client is answered 503",
          "[collector][limits]") {
    collector_instance collector(
        limit_values{{"max_connections", "2"}, {"header_timeout", "2m"}, {"read_timeout", "2m"}});
    {
        // The health check's connection may still hold a slot during its TLS shutdown (at
        // most 5 s): waited out, so that `first` and `second` get the two slots.
        std::this_thread::sleep_for(6s);
        // Both slots are reading a body still to come: neither is idle, neither gives way.
        const std::string pending =
            "POST /api/v1/enroll HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n";
        raw_client first(collector.port, collector.ca);
        first.send(pending);
        raw_client second(collector.port, collector.ca);
        second.send(pending);
        // Nothing shows when the collector has read a header; give it ample time to.
        std::this_thread::sleep_for(3s);
        raw_client third(collector.port, collector.ca);
        third.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        CHECK(third.wait_closed(120s));
        CHECK(third.received().starts_with("HTTP/1.1 503"));
        CHECK(third.received().find("overloaded") != std::string::npos);
        CHECK(collector.log_shows("503 overloaded"));
    }
    // With the two connections gone, clients are served again.
    CHECK(collector.wait_healthy());
}

TEST_CASE("at max_connections the connection idle longest gives way to a new one",
          "[collector][limits]") {
    collector_instance collector(limit_values{{"max_connections", "2"}, {"header_timeout", "2m"}});
    // The health check's connection may still hold a slot while its TLS shutdown runs (at
    // most 5 s); with it, `oldest` could land beyond the limit instead of in a slot.
    std::this_thread::sleep_for(6s);
    raw_client oldest(collector.port, collector.ca);
    raw_client idle(collector.port, collector.ca);
    raw_client newcomer(collector.port, collector.ca);
    newcomer.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    CHECK(newcomer.wait_closed(120s));
    CHECK(newcomer.received().starts_with("HTTP/1.1 200"));
    CHECK(oldest.wait_closed(120s));
    CHECK(oldest.received().empty());
    bool logged = collector.log_shows("evicted for a new connection at max_connections");
    INFO(test::file_text(collector.log_file));
    CHECK(logged);
}

TEST_CASE("a gzip bomb is answered 413 and an agent sending too often 429 with Retry-After",
          "[collector][limits]") {
    collector_instance collector(limit_values{
        {"max_body", "64KiB"}, {"max_decompressed", "1MiB"}, {"agent_rate_per_minute", "3"}});

    agent bomber(collector, "bomber");
    std::string bomb = gzip_compress(std::string(8 << 20, ' '), 9);  // 8 MiB of spaces
    REQUIRE(bomb.size() < 64 * 1024);
    auto refused = bomber.post(collector, bomb);
    CHECK(refused.status == 413);
    CHECK(refused.body.find("too_large") != std::string::npos);
    CHECK(collector.log_shows("413 too_large"));

    agent eager(collector, "eager");
    std::string report = eager.full_report("eager");
    // 3 a minute, in bursts of up to 3: a few of these 6 must be refused, however slowly
    // this machine sends them.
    int accepted = 0;
    std::vector<test::https_response> limited;
    for (int i = 0; i < 6; ++i) {
        auto response = eager.post(collector, report);
        if (response.status == 200) ++accepted;
        if (response.status == 429) limited.push_back(response);
    }
    CHECK(accepted >= 3);
    REQUIRE_FALSE(limited.empty());
    CHECK(limited[0].body.find("rate_limited") != std::string::npos);
    REQUIRE(limited[0].headers.count("retry-after") == 1);
    CHECK(std::stoi(limited[0].headers["retry-after"]) >= 1);
    CHECK(collector.log_shows("429 rate_limited"));
}

TEST_CASE("a keep-alive connection cannot stay beyond max_connections by taking requests",
          "[collector][limits]") {
    // One slot. `busy` sends requests back to back on one connection; newcomers keep
    // arriving. A newcomer is served only by evicting `busy`, which must then close (after
    // at most the one request already on its way). Without the fix, a connection found
    // busy after it gave its slot away went on serving, uncounted and never evictable.
    collector_instance collector(limit_values{{"max_connections", "1"}, {"header_timeout", "2m"}});
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> connection_number{0};  // of busy's current connection
    std::atomic<std::uint64_t> answered{0};           // 200s on it
    std::atomic<bool> connected{false};
    std::thread busy([&] {
        while (!stop) {
            keep_alive_client client(collector.port, collector.ca);
            answered = 0;
            ++connection_number;
            connected = client.open();
            while (!stop && client.get(true) == 200) ++answered;
            connected = false;
            std::this_thread::sleep_for(5ms);
        }
    });
    int served = 0;
    int refused = 0;
    int stayed = 0;
    const auto give_up = std::chrono::steady_clock::now() + 120s;
    for (int trial = 0; trial < 300 && std::chrono::steady_clock::now() < give_up; ++trial) {
        while ((!connected || answered == 0) && std::chrono::steady_clock::now() < give_up)
            std::this_thread::sleep_for(1ms);
        const auto number = connection_number.load();
        keep_alive_client newcomer(collector.port, collector.ca);
        if (newcomer.get(false) != 200) {
            ++refused;
            continue;
        }
        ++served;
        // Evicted: its connection must end, with at most one more answer.
        const auto after = answered.load();
        while (connection_number == number && connected && answered < after + 20 &&
               std::chrono::steady_clock::now() < give_up)
            std::this_thread::sleep_for(1ms);
        if (connection_number == number && connected) ++stayed;
    }
    stop = true;
    busy.join();
    WARN("newcomers served " << served << ", refused " << refused
                             << "; evicted connections that went on serving: " << stayed);
    CHECK(served > 0);
    CHECK(stayed == 0);
}

TEST_CASE("failed TLS handshakes are logged at most once a second per reason with a count",
          "[collector][limits]") {
    collector_instance collector(limit_values{});
    const auto started = std::chrono::steady_clock::now();
    const int attempts = 200;
    for (int i = 0; i < attempts; ++i) plain_http_to_tls_port(collector.port);
    // Once a second has passed, the next failure's line says how many were not logged.
    bool counted = false;
    for (int i = 0; i < 600 && !counted; ++i) {
        plain_http_to_tls_port(collector.port);
        counted =
            test::file_text(collector.log_file).find("more like it since the last such line") !=
            std::string::npos;
        if (!counted) std::this_thread::sleep_for(100ms);
    }
    auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
            .count();
    CHECK(collector.wait_healthy());
    auto log = test::file_text(collector.log_file);
    INFO(log);
    CHECK(counted);
    auto lines = count_of(log, "TLS handshake with 127.0.0.1:");
    INFO(lines << " lines for " << attempts << " failed handshakes in " << seconds << " s");
    CHECK(lines >= 1);
    CHECK(lines <= static_cast<std::size_t>(seconds) + 2);
}
