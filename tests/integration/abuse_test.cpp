// The collector under abuse (issue 10 "Abuse"): enrolled agents (muster-loadgen, one fresh
// TLS connection per report as real agents make) report steadily while attackers on threads
// of this process hit the same real collector for the same period with
//   (a) unauthenticated floods: unsigned reports, random paths, enrollments with a wrong token;
//   (b) oversized bodies: a Content-Length above max_body, a chunked body that never ends;
//   (c) gzip bombs from an enrolled agent (signed, so they are decompressed);
//   (d) slowloris: request headers one byte a second;
//   (e) 2,000 idle TCP connections, reopened as the collector closes them;
//   (f) malformed TLS: random bytes, a truncated ClientHello, a TLS 1.1-only client.
// Then: at least 99% of the agents' reports are acknowledged, the collector still serves, its
// peak RSS stays bounded, and its log gives the reason of each refusal. The figures are
// printed (WARN) so that they show in ctest's output.
#include "common/crypto.h"
#include "common/gzip.h"
#include "common/openssl_handles.h"
#include "support/https_client.h"
#include "support/limited_collector.h"
#include "support/process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

namespace {

using namespace muster;
namespace json = boost::json;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// tests/bench/abuse.sh runs this test with bigger numbers through these variables.
std::size_t setting(const char* name, std::size_t fallback) {
    const char* text = std::getenv(name);
    return text && *text ? std::stoul(text) : fallback;
}
const int abuse_seconds = static_cast<int>(setting("MUSTER_ABUSE_SECONDS", 30));
const std::size_t idle_connections = setting("MUSTER_ABUSE_IDLE", 2000);
const std::size_t agent_count = setting("MUSTER_ABUSE_AGENTS", 40);
constexpr std::size_t slowloris_connections = 50;
// The defaults of config/collector.yaml, which the test keeps.
constexpr std::uint64_t max_body = 32ull << 20;
constexpr auto header_timeout = 10s;

// ---------------------------------------------------------------------------------------
// What the attackers did and what they got back, by kind of attack.

class tally {
  public:
    void add(const std::string& kind, const std::string& outcome, std::uint64_t n = 1) {
        std::lock_guard lock(mutex_);
        counts_[kind][outcome] += n;
    }
    std::uint64_t count(const std::string& kind, const std::string& outcome) {
        std::lock_guard lock(mutex_);
        return counts_[kind][outcome];
    }
    std::uint64_t total(const std::string& kind) {
        std::lock_guard lock(mutex_);
        std::uint64_t sum = 0;
        for (const auto& [outcome, n] : counts_[kind]) sum += n;
        return sum;
    }
    json::object to_json() {
        std::lock_guard lock(mutex_);
        json::object out;
        for (const auto& [kind, outcomes] : counts_) {
            json::object o;
            for (const auto& [outcome, n] : outcomes) o[outcome] = n;
            out[kind] = std::move(o);
        }
        return out;
    }
    std::string table() {
        std::lock_guard lock(mutex_);
        std::string out;
        for (const auto& [kind, outcomes] : counts_) {
            out += "  " + kind + ":";
            for (const auto& [outcome, n] : outcomes)
                out += " " + outcome + " x" + std::to_string(n);
            out += "\n";
        }
        return out;
    }

  private:
    std::mutex mutex_;
    std::map<std::string, std::map<std::string, std::uint64_t>> counts_;
};

// ---------------------------------------------------------------------------------------
// Blocking sockets with deadlines (SO_RCVTIMEO/SO_SNDTIMEO): an attacker is simple code.

class socket_fd {
  public:
    socket_fd() = default;
    explicit socket_fd(int fd) : fd_(fd) {}
    socket_fd(socket_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    socket_fd& operator=(socket_fd&& other) noexcept {
        std::swap(fd_, other.fd_);
        return *this;
    }
    ~socket_fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }

  private:
    int fd_ = -1;
};

socket_fd connect_loopback(int port, std::chrono::seconds timeout) {
    socket_fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) return s;
    timeval tv{static_cast<time_t>(timeout.count()), 0};
    setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        return socket_fd();
    }
    return s;
}

bool send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Whether the peer has closed (or reset) the connection, without waiting.
bool peer_closed(int fd) {
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

// Waits (bounded) until the peer closes; true when it did.
bool wait_peer_closed(int fd, std::chrono::seconds limit) {
    auto deadline = steady::now() + limit;
    char scratch[4096];
    while (steady::now() < deadline) {
        pollfd p{fd, POLLIN | POLLRDHUP, 0};
        if (::poll(&p, 1, 200) > 0) {
            if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
            if (::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) == 0) return true;
        }
    }
    return false;
}

ssl_ctx_ptr client_context(bool tls11_only = false) {
    ssl_ctx_ptr ctx(SSL_CTX_new(TLS_client_method()));
    REQUIRE(ctx);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    if (tls11_only) {
        // Security level 0: OpenSSL 3 would otherwise refuse to offer TLS 1.1 at all, and the
        // collector would never see the attempt.
        SSL_CTX_set_security_level(ctx.get(), 0);
        SSL_CTX_set_cipher_list(ctx.get(), "DEFAULT:@SECLEVEL=0");
        SSL_CTX_set_min_proto_version(ctx.get(), TLS1_VERSION);
        SSL_CTX_set_max_proto_version(ctx.get(), TLS1_1_VERSION);
    }
    return ctx;
}

struct http_reply {
    int status = 0;  // 0: no (complete) answer
    bool keep_alive = false;
    std::string body;
};

// One TLS connection to the collector, spoken to with blocking OpenSSL calls.
class tls_client {
  public:
    tls_client(SSL_CTX* ctx, int port, std::chrono::seconds timeout = 15s)
        : socket_(connect_loopback(port, timeout)) {
        if (!socket_) return;
        ssl_.reset(SSL_new(ctx));
        SSL_set_fd(ssl_.get(), socket_.get());
        ok_ = SSL_connect(ssl_.get()) == 1;
        ERR_clear_error();
    }
    bool ok() const { return ok_ && !write_failed_; }
    int fd() const { return socket_.get(); }

    // After a failed write the answer may still be readable (a 413 sent before closing).
    bool write(std::string_view bytes) {
        while (ok_ && !write_failed_ && !bytes.empty()) {
            int n = SSL_write(ssl_.get(), bytes.data(), static_cast<int>(bytes.size()));
            if (n <= 0) write_failed_ = true;
            if (n > 0) bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        ERR_clear_error();
        return ok_ && !write_failed_;
    }

    http_reply read_reply() {
        http_reply reply;
        std::size_t header_end;
        while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
            if (!fill()) return reply;
        }
        std::string header = buffer_.substr(0, header_end + 4);
        std::string lower = header;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (header.size() < 12 || header.rfind("HTTP/1.1 ", 0) != 0) return reply;
        std::size_t length = 0;
        if (auto at = lower.find("\r\ncontent-length:"); at != std::string::npos) {
            length = std::stoul(lower.substr(at + 17));
        }
        while (buffer_.size() < header_end + 4 + length) {
            if (!fill()) return reply;
        }
        reply.status = std::stoi(header.substr(9, 3));
        reply.keep_alive = lower.find("\r\nconnection: close") == std::string::npos;
        reply.body = buffer_.substr(header_end + 4, length);
        buffer_.erase(0, header_end + 4 + length);
        return reply;
    }

  private:
    bool fill() {
        char chunk[16384];
        int n = ok_ ? SSL_read(ssl_.get(), chunk, sizeof chunk) : 0;
        ERR_clear_error();
        if (n <= 0) {
            ok_ = false;
            return false;
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    socket_fd socket_;
    ssl_ptr ssl_;
    bool ok_ = false;
    bool write_failed_ = false;
    std::string buffer_;
};

std::string status_name(const http_reply& reply) {
    return reply.status == 0 ? "no answer" : std::to_string(reply.status);
}

std::string random_hex(std::mt19937_64& rng, std::size_t bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < 2 * bytes; ++i) out += digits[rng() % 16];
    return out;
}

std::string request(const std::string& method, const std::string& target,
                    const std::vector<std::string>& headers, const std::string& body) {
    std::string out = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& h : headers) out += h + "\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return out;
}

// ---------------------------------------------------------------------------------------
// The collector, made by `init`, with the defaults an admin would keep.

// Changed from the defaults, and why:
// - agent_rate_per_minute: 40 simulated agents report many times a minute each to make a
//   30 s test meaningful; the rate limiter is not what is tested here.
// - max_decompressed 64MiB (default 256MiB): each bomb inflates up to this much, which takes
//   a second of CPU on this loaded machine; a smaller cap means more bombs.
struct collector_instance : test::limited_collector {
    collector_instance()
        : limited_collector({{"agent_rate_per_minute", "100000"}, {"max_decompressed", "64MiB"}}) {}
};

// An agent of the attacker's own, enrolled with the real token: its reports are signed, so
// the collector decompresses them (an unsigned bomb is refused before that).
struct enrolled_agent {
    ed25519_key key = ed25519_key::generate();
    std::string id;

    explicit enrolled_agent(collector_instance& collector) {
        auto token = collector.config_value("agent.yaml", "enrollment_token");
        REQUIRE(token.size() > 20);
        auto enrolled = test::https_post(
            collector.url + "/api/v1/enroll", {{"Content-Type", "application/json"}},
            json::serialize(json::object{{"token", token},
                                         {"public_key", base64_encode(key.public_raw())},
                                         {"facts", json::object{{"hostname", "bomber"}}}}),
            collector.ca);
        REQUIRE(enrolled.status == 200);
        id = std::string(json::parse(enrolled.body).at("agent_id").as_string());
    }
};

// ---------------------------------------------------------------------------------------
// The attackers. Each runs until `stop` and records what it did in the tally.

struct attack_context {
    collector_instance& collector;
    tally& counts;
    std::atomic<bool>& stop;
    SSL_CTX* tls;
};

void pause_unless_stopped(const attack_context& a, std::chrono::milliseconds how_long) {
    auto until = steady::now() + how_long;
    while (!a.stop && steady::now() < until) std::this_thread::sleep_for(20ms);
}

// (a) Many requests per keep-alive connection: unsigned reports, random paths and wrong
// enrollment tokens.
void flood(const attack_context& a, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    const std::string junk = gzip_compress(R"({"protocol":1,"kind":"full"})");
    while (!a.stop) {
        tls_client conn(a.tls, a.collector.port);
        if (!conn.ok()) {
            a.counts.add("flood", "connection failed");
            pause_unless_stopped(a, 100ms);
            continue;
        }
        for (int i = 0; i < 100 && !a.stop && conn.ok(); ++i) {
            std::string kind;
            std::string bytes;
            switch (i % 3) {
                case 0:
                    kind = "unsigned report";
                    bytes = request(
                        "POST", "/api/v1/reports",
                        {"Content-Encoding: gzip", "X-Muster-Agent-Id: " + random_hex(rng, 16),
                         "X-Muster-Signature: " + base64_encode(random_hex(rng, 32))},
                        junk);
                    break;
                case 1:
                    kind = "random path";
                    bytes = request(rng() % 2 ? "GET" : "POST", "/" + random_hex(rng, 6) + "/x", {},
                                    rng() % 2 ? "" : random_hex(rng, 64));
                    break;
                default:
                    kind = "wrong enrollment token";
                    bytes = request("POST", "/api/v1/enroll", {"Content-Type: application/json"},
                                    json::serialize(json::object{
                                        {"token", random_hex(rng, 24)},
                                        {"public_key", base64_encode(random_hex(rng, 16))},
                                        {"facts", json::object{{"hostname", "intruder"}}}}));
            }
            if (!conn.write(bytes)) break;
            auto reply = conn.read_reply();
            a.counts.add(kind, status_name(reply));
            if (!reply.keep_alive) break;
        }
    }
}

// (b) A Content-Length far above max_body: the answer must come without the body.
void oversized_declared(const attack_context& a) {
    while (!a.stop) {
        tls_client conn(a.tls, a.collector.port);
        if (conn.ok()) {
            conn.write("POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                       std::to_string(max_body * 32) + "\r\n\r\n");
        }
        a.counts.add("declared body 1 GiB", status_name(conn.read_reply()));
        pause_unless_stopped(a, 200ms);
    }
}

// (b) A chunked body that never ends: the collector must cut it near max_body. The attacker
// gives up at four times max_body, which the collector must never let it reach.
void endless_chunked(const attack_context& a) {
    const std::string chunk_data(64 * 1024, 'x');
    std::stringstream size;
    size << std::hex << chunk_data.size();
    const std::string chunk = size.str() + "\r\n" + chunk_data + "\r\n";
    while (!a.stop) {
        tls_client conn(a.tls, a.collector.port);
        std::uint64_t sent = 0;
        if (conn.ok()) {
            conn.write(
                "POST /api/v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: "
                "chunked\r\n\r\n");
            while (sent < 4 * max_body && conn.write(chunk)) sent += chunk_data.size();
        }
        auto reply = conn.read_reply();
        a.counts.add("endless chunked body",
                     sent >= 4 * max_body ? "never cut off" : status_name(reply));
        pause_unless_stopped(a, 1s);
    }
}

// (c) Signed gzip bombs: a few hundred KB that inflate beyond max_decompressed.
void gzip_bombs(const attack_context& a, enrolled_agent& bomber) {
    const std::string bomb = gzip_compress(std::string(96u << 20, ' '), 9);
    const std::string signature = base64_encode(bomber.key.sign(bomb));
    while (!a.stop) {
        tls_client conn(a.tls, a.collector.port);
        conn.write(request("POST", "/api/v1/reports",
                           {"Content-Encoding: gzip", "X-Muster-Agent-Id: " + bomber.id,
                            "X-Muster-Signature: " + signature},
                           bomb));
        a.counts.add("gzip bomb", status_name(conn.read_reply()));
        pause_unless_stopped(a, 500ms);
    }
}

// (d) Slowloris: TLS done, then the request header one byte a second, on many connections.
// Records how long the collector let each one live.
void slowloris(const attack_context& a) {
    const std::string header =
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + std::string(200, 'a') + "\r\n\r\n";
    struct slow {
        std::unique_ptr<tls_client> conn;
        steady::time_point opened;
        std::size_t next = 0;
    };
    std::vector<slow> open;
    double longest = 0;
    while (!a.stop) {
        while (open.size() < slowloris_connections && !a.stop) {
            auto conn = std::make_unique<tls_client>(a.tls, a.collector.port);
            if (!conn->ok()) {
                a.counts.add("slowloris", "connection failed");
                break;
            }
            open.push_back({std::move(conn), steady::now(), 0});
            a.counts.add("slowloris", "opened");
        }
        for (auto it = open.begin(); it != open.end();) {
            bool closed = peer_closed(it->conn->fd()) ||
                          !it->conn->write(header.substr(it->next++ % header.size(), 1));
            if (closed) {
                longest = std::max(
                    longest, std::chrono::duration<double>(steady::now() - it->opened).count());
                a.counts.add("slowloris", "closed by the collector");
                it = open.erase(it);
            } else {
                ++it;
            }
        }
        pause_unless_stopped(a, 1s);
    }
    a.counts.add("slowloris", "longest held s", static_cast<std::uint64_t>(longest));
}

// (e) Idle TCP connections that never send a byte; those the collector closes are reopened,
// so that it faces idle_connections of them for the whole run.
void idle_flood(const attack_context& a) {
    std::vector<socket_fd> open;
    while (!a.stop) {
        std::erase_if(open, [&](const socket_fd& s) {
            bool gone = peer_closed(s.get());
            if (gone) a.counts.add("idle TCP", "closed by the collector");
            return gone;
        });
        while (open.size() < idle_connections && !a.stop) {
            auto s = connect_loopback(a.collector.port, 5s);
            if (!s) {
                a.counts.add("idle TCP", "connect failed");
                break;
            }
            open.push_back(std::move(s));
            a.counts.add("idle TCP", "opened");
        }
        pause_unless_stopped(a, 500ms);
    }
    a.counts.add("idle TCP", "held at the end", open.size());
}

// A real ClientHello, as the first bytes a TLS client sends.
std::string client_hello(SSL_CTX* ctx) {
    ssl_ptr ssl(SSL_new(ctx));
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl.get(), in, out);  // ssl owns both now
    SSL_connect(ssl.get());           // wants to read the ServerHello; the hello is written
    ERR_clear_error();
    char* data = nullptr;
    long size = BIO_get_mem_data(out, &data);
    return std::string(data, static_cast<std::size_t>(size));
}

// (f) Malformed TLS: random bytes, half a ClientHello (then silence), a TLS 1.1-only client.
void malformed_tls(const attack_context& a) {
    std::mt19937_64 rng(7);
    const std::string hello = client_hello(a.tls);
    auto tls11 = client_context(true);
    std::vector<socket_fd> truncated;
    for (int round = 0; !a.stop; ++round) {
        switch (round % 3) {
            case 0: {
                auto s = connect_loopback(a.collector.port, 10s);
                std::string noise(1 + rng() % 4096, '\0');
                for (auto& c : noise) c = static_cast<char>(rng());
                bool closed = s && send_all(s.get(), noise) && wait_peer_closed(s.get(), 15s);
                a.counts.add("random bytes", closed ? "closed by the collector" : "not closed");
                break;
            }
            case 1: {
                auto s = connect_loopback(a.collector.port, 10s);
                if (s && send_all(s.get(), hello.substr(0, hello.size() / 2))) {
                    truncated.push_back(std::move(s));
                    a.counts.add("truncated ClientHello", "sent");
                }
                break;
            }
            default: {
                tls_client conn(tls11.get(), a.collector.port);
                a.counts.add("TLS 1.1 client", conn.ok() ? "handshake ACCEPTED" : "refused");
            }
        }
        std::erase_if(truncated, [&](const socket_fd& s) {
            bool gone = peer_closed(s.get());
            if (gone) a.counts.add("truncated ClientHello", "closed by the collector");
            return gone;
        });
        pause_unless_stopped(a, 100ms);
    }
}

// ---------------------------------------------------------------------------------------

void raise_descriptor_limit(rlim_t wanted) {
    rlimit limit{};
    REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
    if (limit.rlim_cur < wanted) {
        limit.rlim_cur = std::min(wanted, limit.rlim_max);
        REQUIRE(setrlimit(RLIMIT_NOFILE, &limit) == 0);
    }
    INFO("the hard limit on file descriptors is below what the test needs");
    REQUIRE(limit.rlim_cur >= wanted);
}

// Refusal reasons in the collector's log, each with its count: the text after the peer,
// with numbers and identifiers blanked so that equal reasons count together.
std::map<std::string, std::uint64_t> log_reasons(const std::string& log) {
    static const std::regex peer(R"(127\.0\.0\.1:\d+)");
    static const std::regex number(R"(\b[0-9a-f]{8,}\b|\b\d+\b)");
    std::map<std::string, std::uint64_t> reasons;
    std::istringstream lines(log);
    std::string line;
    while (std::getline(lines, line)) {
        auto at = line.find("refused ");
        if (at == std::string::npos) at = line.find("closed ");
        if (at == std::string::npos) at = line.find("TLS handshake with");
        if (at == std::string::npos) continue;
        auto reason = std::regex_replace(line.substr(at), peer, "PEER");
        reason = std::regex_replace(reason, number, "N");
        ++reasons[reason];
    }
    return reasons;
}

std::uint64_t json_uint(const json::value& v) {
    return v.is_uint64() ? v.as_uint64() : static_cast<std::uint64_t>(v.as_int64());
}

}  // namespace

TEST_CASE("enrolled agents keep reporting while the collector is abused", "[collector][abuse]") {
    std::signal(SIGPIPE, SIG_IGN);
    raise_descriptor_limit(idle_connections + slowloris_connections + 1024);
    collector_instance collector;
    enrolled_agent bomber(collector);
    tally counts;
    std::atomic<bool> stop{false};
    auto tls = client_context();
    attack_context attack{collector, counts, stop, tls.get()};

    std::vector<std::thread> attackers;
    attackers.emplace_back([&] { idle_flood(attack); });
    // The agents start once the idle connections are there: they must get in regardless.
    for (int i = 0; i < 1200 && counts.count("idle TCP", "opened") < idle_connections; ++i) {
        std::this_thread::sleep_for(50ms);
    }
    attackers.emplace_back([&] { flood(attack, 1); });
    attackers.emplace_back([&] { flood(attack, 2); });
    attackers.emplace_back([&] { oversized_declared(attack); });
    attackers.emplace_back([&] { endless_chunked(attack); });
    attackers.emplace_back([&] { gzip_bombs(attack, bomber); });
    attackers.emplace_back([&] { slowloris(attack); });
    attackers.emplace_back([&] { malformed_tls(attack); });

    std::string token_file = collector.tmp.path() + "/token";
    std::ofstream(token_file) << collector.config_value("agent.yaml", "enrollment_token") << "\n";
    std::string report_file = collector.tmp.path() + "/loadgen.json";
    test::background_process agents({MUSTER_LOADGEN_BIN,
                                     "--url",
                                     collector.url,
                                     "--ca",
                                     collector.ca,
                                     "--token-file",
                                     token_file,
                                     "--agents",
                                     std::to_string(agent_count),
                                     "--concurrency",
                                     "4",
                                     "--packages",
                                     "200",
                                     "--phases",
                                     "delta",
                                     "--duration",
                                     std::to_string(abuse_seconds),
                                     "--fresh-connections",
                                     "--json",
                                     report_file,
                                     "--quiet"},
                                    collector.tmp.path() + "/loadgen.log");
    int agents_exit = agents.wait((abuse_seconds + 60) * 1000);
    stop = true;
    for (auto& t : attackers) t.join();

    INFO(test::file_text(collector.tmp.path() + "/loadgen.log"));
    REQUIRE(agents_exit != -2);
    auto summary = json::parse(test::file_text(report_file)).as_object();

    // Acknowledged / attempted, every phase (enrollment included). A 429 or 503 answered and
    // retried is not a failure; any other error, even one retried later, counts as one.
    std::uint64_t acked = 0;
    std::uint64_t failed = 0;
    std::uint64_t retried = 0;
    for (const auto& p : summary.at("phases").as_array()) {
        acked += json_uint(p.at("acknowledged"));
        for (const auto& [kind, n] : p.at("errors").as_object()) {
            (std::string(kind.data(), kind.size()).ends_with("(retried)") ? retried : failed) +=
                json_uint(n);
        }
    }
    double success = acked + failed ? static_cast<double>(acked) / (acked + failed) : 0;

    // Still alive and serving, after the attackers are gone.
    CHECK(collector.wait_healthy());
    auto peak_kib = collector.memory_kib("VmHWM");
    auto end_kib = collector.memory_kib("VmRSS");
    auto log = test::file_text(collector.log_file);
    auto reasons = log_reasons(log);

    std::string reason_table;
    for (const auto& [reason, n] : reasons)
        reason_table += "  " + std::to_string(n) + "  " + reason + "\n";
    WARN("agents: " << acked << " acknowledged, " << failed << " failed, " << retried
                    << " answered 429/503 and retried; success rate " << success * 100 << "%");
    WARN("collector peak RSS (VmHWM): " << peak_kib / 1024 << " MiB, RSS at the end "
                                        << end_kib / 1024 << " MiB");
    WARN("attacks (kind: outcome x count):\n" << counts.table());
    WARN("refusals in the collector's log (count, reason):\n" << reason_table);

    if (const char* out = std::getenv("MUSTER_ABUSE_JSON"); out && *out) {
        json::object reason_counts;
        for (const auto& [reason, n] : reasons) reason_counts[reason] = n;
        std::ofstream(out) << json::serialize(
                                  json::object{{"seconds", abuse_seconds},
                                               {"agents", agent_count},
                                               {"idle_connections", idle_connections},
                                               {"acknowledged", acked},
                                               {"failed", failed},
                                               {"retried", retried},
                                               {"success_rate", success},
                                               {"peak_rss_bytes", peak_kib * 1024},
                                               {"end_rss_bytes", end_kib * 1024},
                                               {"attacks", counts.to_json()},
                                               {"log_reasons", std::move(reason_counts)}})
                           << "\n";
    }

    CHECK(acked > 100);
    CHECK(success >= 0.99);
    CHECK(peak_kib > 0);
    // Measured about 230 MiB: a bomb inflating to 1.5 x max_decompressed, a chunked body to
    // max_body, the TLS connections. Silent sockets cost almost nothing (no TLS state until
    // their first byte); when each of the ~1,000 they hold had its TLS buffers, the peak was
    // about 440 MiB. A leak across the tens of thousands of connections would pass this too.
    CHECK(peak_kib < 384 * 1024);

    // Every attack was made, and met the refusal it deserves.
    CHECK(counts.count("unsigned report", "401") > 100);
    CHECK(counts.count("unsigned report", "200") == 0);
    CHECK(counts.count("random path", "404") + counts.count("random path", "405") > 100);
    CHECK(counts.count("wrong enrollment token", "401") > 100);
    CHECK(counts.count("wrong enrollment token", "200") == 0);
    CHECK(counts.count("declared body 1 GiB", "413") > 10);
    CHECK(counts.count("endless chunked body", "never cut off") == 0);
    CHECK(counts.total("endless chunked body") > 0);
    CHECK(counts.count("gzip bomb", "413") > 3);
    CHECK(counts.count("gzip bomb", "200") == 0);
    CHECK(counts.count("slowloris", "closed by the collector") > 0);
    CHECK(counts.count("slowloris", "longest held s") <=
          static_cast<std::uint64_t>(header_timeout.count()) + 15);
    CHECK(counts.count("idle TCP", "opened") >= idle_connections);
    CHECK(counts.count("random bytes", "not closed") == 0);
    CHECK(counts.count("random bytes", "closed by the collector") > 10);
    CHECK(counts.count("truncated ClientHello", "sent") > 10);
    CHECK(counts.count("TLS 1.1 client", "handshake ACCEPTED") == 0);
    CHECK(counts.count("TLS 1.1 client", "refused") > 10);

    // The log says why.
    CHECK(log.find("401 bad_token") != std::string::npos);
    CHECK(log.find("401 unknown_agent") != std::string::npos);
    CHECK(log.find("413 too_large") != std::string::npos);
    CHECK(log.find("TLS handshake with") != std::string::npos);
    // Slow and silent connections are cut at header_timeout, or give way to newer ones first.
    CHECK((log.find("no complete request header in time") != std::string::npos ||
           log.find("idle, evicted for a new connection") != std::string::npos));
    CHECK(log.find("evicted for a new connection at max_connections") != std::string::npos);
}
