#include "tests/bench/loadgen/runner.h"

#include "tests/bench/loadgen/connection.h"
#include "tests/bench/loadgen/fleet.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

namespace muster::loadgen {
namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

struct file_closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

// One line "agent_id seq" per acknowledged report, flushed at once: a crash test reads it
// after killing the collector, so it must hold every acknowledgement received.
class acked_log {
  public:
    explicit acked_log(const std::string& path) {
        if (path.empty()) return;
        file_.reset(std::fopen(path.c_str(), "w"));
        if (!file_) throw std::runtime_error("--acked-log " + path + ": cannot open for writing");
    }
    void record(const std::string& agent_id, std::uint64_t seq) {
        if (!file_) return;
        std::lock_guard lock(mutex_);
        std::fprintf(file_.get(), "%s %llu\n", agent_id.c_str(),
                     static_cast<unsigned long long>(seq));
        std::fflush(file_.get());
    }

  private:
    std::mutex mutex_;
    file_ptr file_;
};

struct run_context {
    const options& opts;
    collector_url url;
    asio::ssl::context tls;
    fleet agents;
    acked_log acked;
    std::atomic<bool> stop{false};
    std::atomic<bool> collector_gone{false};
    std::optional<steady::time_point> deadline;
    // --rate, --delta-rate: report k of a phase is due at rate_start + k / rate.
    double rate = 0;
    steady::time_point rate_start;
    std::atomic<std::uint64_t> rate_slots{0};

    run_context(const options& o, collector_url u)
        : opts(o),
          url(std::move(u)),
          tls(make_tls_context(o.ca_file)),
          agents({o.seed, o.packages}, o.agents, o.token, o.gzip_level),
          acked(o.acked_log) {}
};

using builder = std::function<prepared_request(fleet&, std::size_t agent)>;
using request_source = std::function<std::optional<prepared_request>()>;

std::string json_string(const boost::json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

// "409 resync" from an error body, or the status alone.
std::string refusal_kind(const http_result& res) {
    std::string kind = std::to_string(res.status);
    boost::system::error_code ec;
    auto value = boost::json::parse(res.body, ec);
    if (!ec && value.is_object()) {
        if (auto* error = value.as_object().if_contains("error"); error && error->is_object())
            kind += " " + json_string(error->as_object(), "code");
    }
    return kind;
}

// Whether a 200 acknowledges this request; records the agent id of an enrollment.
bool accept(run_context& ctx, const prepared_request& r, const http_result& res) {
    boost::system::error_code ec;
    auto value = boost::json::parse(res.body, ec);
    if (ec || !value.is_object()) return false;
    const auto& o = value.as_object();
    if (r.is_enroll) {
        auto id = json_string(o, "agent_id");
        if (id.empty() || res.status != 200) return false;
        ctx.agents.agent(r.agent).agent_id = id;
        return true;
    }
    auto* seq = o.if_contains("seq");
    if (res.status != 200 || !seq || seq->to_number<std::uint64_t>(ec) != r.seq || ec) return false;
    ctx.acked.record(ctx.agents.agent(r.agent).agent_id, r.seq);
    return true;
}

asio::awaitable<void> pause(std::chrono::milliseconds how_long) {
    asio::steady_timer timer(co_await asio::this_coro::executor, how_long);
    co_await timer.async_wait(asio::use_awaitable);
}

asio::awaitable<void> send(run_context& ctx, connection& conn, const prepared_request& r,
                           phase_stats& stats, steady::time_point start) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!r.is_enroll) {
        headers = {{"Content-Encoding", "gzip"},
                   {"X-Muster-Agent-Id", ctx.agents.agent(r.agent).agent_id},
                   {"X-Muster-Signature", r.signature}};
    }
    // The collector then closes the connection and the next request opens a new one.
    if (ctx.opts.fresh_connections) headers.emplace_back("Connection", "close");
    const std::string target = r.is_enroll ? "/api/v1/enroll" : "/api/v1/reports";
    for (int attempt = 0; !ctx.stop; ++attempt) {
        auto res = co_await conn.post(target, headers, r.body);
        stats.bytes_sent += res.bytes_sent;
        if (res.ec) {
            // A collector that refuses connections is gone: the end of an --until-killed
            // run, or after the retries a dead collector that no retry will bring back.
            if (res.connect_failed && (ctx.opts.until_killed || attempt >= 4)) {
                ctx.collector_gone = true;
                ctx.stop = true;
                co_return;
            }
            ++stats.errors[(res.connect_failed ? "connect: " : "network: ") + res.ec.message()];
            if (attempt >= 4) co_return;
            co_await pause(std::chrono::milliseconds(500 * (attempt + 1)));
            continue;
        }
        if (res.status == 429 || res.status == 503) {
            ++stats.errors[refusal_kind(res) + " (retried)"];
            if (attempt >= 30) co_return;
            auto wait = std::min(res.retry_after.value_or(std::chrono::seconds(1)),
                                 std::chrono::seconds(10));
            co_await pause(std::chrono::duration_cast<std::chrono::milliseconds>(wait));
            continue;
        }
        if (res.status / 100 == 2 && accept(ctx, r, res)) {
            ++stats.ok;
            stats.body_bytes += r.body.size();
            stats.latencies_ms.push_back(
                std::chrono::duration<double, std::milli>(steady::now() - start).count());
        } else {
            ++stats.errors[res.status / 100 == 2 ? std::to_string(res.status) + " unexpected body"
                                                 : refusal_kind(res)];
        }
        co_return;
    }
}

asio::awaitable<void> worker(run_context& ctx, request_source next, phase_stats& stats) {
    connection conn(co_await asio::this_coro::executor, ctx.tls, ctx.url,
                    std::chrono::seconds(ctx.opts.timeout_seconds));
    while (!ctx.stop) {
        if (ctx.deadline && steady::now() >= *ctx.deadline) break;
        auto request = next();
        if (!request) break;
        auto start = steady::now();
        if (ctx.rate > 0 && !request->is_enroll) {
            // Open loop: the report is due at its slot whether or not the collector kept up.
            auto slot = ctx.rate_slots++;
            start = ctx.rate_start + std::chrono::duration_cast<steady::duration>(
                                         std::chrono::duration<double>(slot / ctx.rate));
            if (start > steady::now()) {
                asio::steady_timer timer(co_await asio::this_coro::executor, start);
                co_await timer.async_wait(asio::use_awaitable);
            }
        }
        co_await send(ctx, conn, *request, stats, start);
    }
}

// Agents of worker w: w, w + W, w + 2W, …; each round visits them all in that order.
struct agent_cursor {
    std::size_t first, step, agents, rounds;  // rounds 0: endless
    std::size_t agent, round = 0;
    agent_cursor(std::size_t w, std::size_t workers, std::size_t n, std::size_t r)
        : first(w), step(workers), agents(n), rounds(r), agent(w) {}
    // The next (round, agent), or false when done.
    bool next(std::size_t& out_round, std::size_t& out_agent) {
        if (first >= agents || (rounds != 0 && round >= rounds)) return false;
        out_round = round;
        out_agent = agent;
        agent += step;
        if (agent >= agents) {
            agent = first;
            ++round;
        }
        return true;
    }
};

bool enrolled(run_context& ctx, std::size_t agent) {
    return !ctx.agents.agent(agent).agent_id.empty();
}

// Builds every request of the phase, agents spread over the threads (one agent's requests
// stay in order on one thread).
std::vector<std::optional<prepared_request>> prepare(run_context& ctx, const builder& build,
                                                     std::size_t rounds, bool needs_id) {
    auto n = ctx.agents.size();
    std::vector<std::optional<prepared_request>> items(n * rounds);
    std::vector<std::thread> threads;
    std::exception_ptr failure;
    std::mutex failure_mutex;
    for (std::size_t t = 0; t < ctx.opts.threads; ++t) {
        threads.emplace_back([&, t] {
            try {
                for (std::size_t a = t; a < n; a += ctx.opts.threads) {
                    if (needs_id && !enrolled(ctx, a)) continue;
                    for (std::size_t r = 0; r < rounds; ++r)
                        items[r * n + a] = build(ctx.agents, a);
                }
            } catch (...) {
                std::lock_guard lock(failure_mutex);
                failure = std::current_exception();
            }
        });
    }
    for (auto& thread : threads) thread.join();
    if (failure) std::rethrow_exception(failure);
    return items;
}

std::vector<request_source> prepared_sources(
    std::size_t workers, std::size_t agents, std::size_t rounds,
    std::shared_ptr<std::vector<std::optional<prepared_request>>> items) {
    std::vector<request_source> sources;
    for (std::size_t w = 0; w < workers; ++w) {
        sources.push_back([cursor = agent_cursor(w, workers, agents, rounds), items,
                           agents]() mutable -> std::optional<prepared_request> {
            std::size_t round = 0, agent = 0;
            while (cursor.next(round, agent)) {
                auto& item = (*items)[round * agents + agent];
                if (item) return std::move(item);
            }
            return std::nullopt;
        });
    }
    return sources;
}

std::vector<request_source> lazy_sources(run_context& ctx, std::size_t workers, std::size_t rounds,
                                         builder build) {
    std::vector<request_source> sources;
    for (std::size_t w = 0; w < workers; ++w) {
        sources.push_back(
            [&ctx, build, cursor = agent_cursor(w, workers, ctx.agents.size(), rounds)]() mutable
            -> std::optional<prepared_request> {
                std::size_t round = 0, agent = 0;
                while (cursor.next(round, agent)) {
                    if (enrolled(ctx, agent)) return build(ctx.agents, agent);
                }
                return std::nullopt;
            });
    }
    return sources;
}

// Runs the workers to the end on `threads` threads; returns the merged figures.
phase_stats send_all(run_context& ctx, std::vector<request_source> sources) {
    asio::io_context io;
    std::vector<phase_stats> per_worker(sources.size());
    std::exception_ptr failure;
    std::mutex failure_mutex;
    for (std::size_t w = 0; w < sources.size(); ++w) {
        asio::co_spawn(asio::make_strand(io), worker(ctx, std::move(sources[w]), per_worker[w]),
                       [&](std::exception_ptr e) {
                           if (!e) return;
                           std::lock_guard lock(failure_mutex);
                           failure = e;
                           ctx.stop = true;
                       });
    }
    std::vector<std::thread> threads;
    for (std::size_t t = 1; t < ctx.opts.threads; ++t) threads.emplace_back([&] { io.run(); });
    io.run();
    for (auto& thread : threads) thread.join();
    if (failure) std::rethrow_exception(failure);
    phase_stats merged;
    for (const auto& part : per_worker) merged.merge(part);
    return merged;
}

phase_stats run_phase(run_context& ctx, const std::string& name, const builder& build,
                      std::size_t rounds, bool endless) {
    auto workers = std::min(ctx.opts.concurrency, ctx.agents.size());
    bool needs_id = name != "enroll";
    auto prepare_start = steady::now();
    std::vector<request_source> sources;
    if (endless) {
        sources = lazy_sources(ctx, workers, 0, build);
    } else {
        auto items = std::make_shared<std::vector<std::optional<prepared_request>>>(
            prepare(ctx, build, rounds, needs_id));
        sources = prepared_sources(workers, ctx.agents.size(), rounds, std::move(items));
    }
    auto start = steady::now();
    bool is_delta = name == "delta" || name == "churn";
    ctx.rate = is_delta && ctx.opts.delta_rate > 0 ? ctx.opts.delta_rate : ctx.opts.rate;
    ctx.rate_start = start;
    ctx.rate_slots = 0;
    std::optional<process_sample> before;
    if (ctx.opts.collector_pid) before = sample_process(*ctx.opts.collector_pid);
    auto stats = send_all(ctx, std::move(sources));
    stats.name = name;
    stats.seconds = std::chrono::duration<double>(steady::now() - start).count();
    stats.prepare_seconds = std::chrono::duration<double>(start - prepare_start).count();
    if (ctx.opts.collector_pid) {
        auto after = sample_process(*ctx.opts.collector_pid);
        if (before && after) stats.collector_cpu_seconds = after->cpu_seconds - before->cpu_seconds;
    }
    if (!ctx.opts.quiet) {
        std::cerr << "muster-loadgen: " << name << ": " << stats.ok << " acknowledged in "
                  << stats.seconds << " s (prepared in " << stats.prepare_seconds << " s)\n";
    }
    return stats;
}

builder builder_for(const std::string& phase) {
    if (phase == "enroll") return [](fleet& f, std::size_t a) { return f.enroll_request(a); };
    if (phase == "full") return [](fleet& f, std::size_t a) { return f.full_report(a); };
    if (phase == "delta") return [](fleet& f, std::size_t a) { return f.unchanged_delta(a); };
    return [](fleet& f, std::size_t a) { return f.churn_delta(a); };
}

std::optional<std::uint64_t> database_bytes(const std::string& db) {
    if (db.empty()) return std::nullopt;
    std::error_code ec;
    auto main_size = std::filesystem::file_size(db, ec);
    if (ec) return std::nullopt;
    auto wal_size = std::filesystem::file_size(db + "-wal", ec);
    return main_size + (ec ? 0 : wal_size);
}

}  // namespace

run_outcome run_load(const options& opts) {
    auto url = parse_url(opts.url);
    if (!url) throw usage_error("--url: expected https://HOST[:PORT], got '" + opts.url + "'");
    run_context ctx(opts, *url);
    bool repeat_last = opts.until_killed || opts.duration_seconds > 0;
    if (opts.duration_seconds > 0) {
        ctx.deadline = steady::now() + std::chrono::duration_cast<steady::duration>(
                                           std::chrono::duration<double>(opts.duration_seconds));
    }
    // The agents are new: they enroll and send a full report before any delta.
    std::vector<std::string> phases{"enroll"};
    if (opts.phases.empty() || opts.phases.front() != "full") phases.push_back("full");
    phases.insert(phases.end(), opts.phases.begin(), opts.phases.end());

    run_outcome outcome;
    auto& summary = outcome.summary;
    summary.agents = opts.agents;
    summary.concurrency = opts.concurrency;
    summary.packages = opts.packages;
    summary.rate = opts.rate;
    summary.delta_rate = opts.delta_rate > 0 ? opts.delta_rate : opts.rate;
    for (std::size_t i = 0; i < phases.size() && !ctx.stop; ++i) {
        const auto& phase = phases[i];
        bool endless = repeat_last && i + 1 == phases.size();
        auto rounds = (phase == "delta" || phase == "churn") ? opts.deltas_per_agent : 1;
        if (rounds == 0 && !endless) continue;
        summary.phases.push_back(run_phase(ctx, phase, builder_for(phase), rounds, endless));
    }
    if (opts.collector_pid) summary.collector = sample_process(*opts.collector_pid);
    summary.database_bytes = database_bytes(opts.db_file);
    outcome.collector_went_away = ctx.collector_gone;
    return outcome;
}

}  // namespace muster::loadgen
