#include "collector/serve.h"

#include "collector/admin/admin_api.h"
#include "collector/http_server.h"
#include "collector/ingest_writer.h"
#include "collector/maintenance.h"
#include "collector/metrics.h"
#include "collector/notify/notifier.h"
#include "collector/routes.h"
#include "collector/sqlite_store.h"
#include "collector/tls.h"
#include "common/logging.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <optional>
#include <thread>
#include <vector>

namespace muster::collector {
namespace {

namespace asio = boost::asio;

constexpr int io_threads = 2;

std::int64_t unix_now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

asio::ip::tcp::endpoint resolve_listen(asio::io_context& io, const listen_address& listen) {
    asio::ip::tcp::resolver resolver(io);
    auto results = resolver.resolve(listen.host, std::to_string(listen.port),
                                    asio::ip::resolver_base::passive);
    return results.begin()->endpoint();
}

// Each connection is a descriptor, and so is each one being refused (up to max_connections
// more); the database, its WAL, the log and the webhooks need a few dozen. A soft limit of
// 1024 (the usual default) would make accept() fail long before max_connections, so the soft
// limit is raised as far as the hard limit allows, and a shortfall is said once at start.
void raise_descriptor_limit(std::size_t max_connections) {
    auto log = get_logger("collector");
    const rlim_t wanted = static_cast<rlim_t>(2 * max_connections + 256);
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    if (limit.rlim_cur < wanted && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = std::min(wanted, limit.rlim_max);
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0) getrlimit(RLIMIT_NOFILE, &limit);
    }
    if (limit.rlim_cur < wanted) {
        log->warn(
            "the file descriptor limit is {} but max_connections {} needs about {}: raise "
            "LimitNOFILE or lower limits.max_connections",
            static_cast<std::uint64_t>(limit.rlim_cur), max_connections,
            static_cast<std::uint64_t>(wanted));
    }
}

}  // namespace

int serve(const collector_config& config) {
    auto log = get_logger("collector");
    raise_descriptor_limit(config.limits.max_connections);
    if (config.enrollment_token_sha256.empty()) {
        log->warn("no enrollment token is configured: no agent can enroll");
    }
    auto store = open_sqlite_store(config.database, config.incidents);
    ingest_writer writer(*store, {}, unix_now);
    rate_limiter limiter(config.limits.agent_rate_per_minute);
    api_handler api(*store, writer, limiter, api_settings_from(config), unix_now);
    // The admin API (docs/api.md) reads on read-only connections of its own.
    auto admin_queries = admin::open_sqlite_queries({config.database, config.incidents.services});
    auto admin_tokens = admin::open_sqlite_token_writer(config.database);
    collector_metrics metrics([path = config.database] { return read_cmdb_gauges(path); });
    admin::admin_api admin_api(*admin_queries, *admin_tokens, *store, &store->incidents(),
                               admin::admin_settings_from(config), unix_now,
                               [&metrics] { return metrics.render(); });
    api.count_with(metrics);
    api.on_admin_request(
        [&admin_api](const http_request& request) { return admin_api.handle(request); });
    auto tls = make_server_tls_context(config.tls_cert_file, config.tls_key_file);
    maintenance_task maintenance(*store, config.maintenance, unix_now);
    // Without webhooks nothing reads the outbox; its rows wait for a webhook to be configured
    // (rows older than a webhook are not sent to it, see docs/notifications.md).
    std::optional<notify::notifier> notifier;
    if (!config.notifications.webhooks.empty()) {
        notifier.emplace(config.database, config.notifications, unix_now);
        log->info("notifications go to {} webhook(s)", config.notifications.webhooks.size());
        api.on_report_stored([&notifier] { notifier->poke(); });
    }

    asio::io_context io(io_threads);
    http_server server(
        io, tls,
        [&api](const http_request& request, std::string peer) {
            return api.handle(request, std::move(peer));
        },
        config.limits);
    server.start(resolve_listen(io, config.listen));
    log->info("listening on {} (database {})", format_listen_address(config.listen),
              config.database.string());

    asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        log->info("signal {}: finishing requests in flight, then stopping", signal);
        server.stop();
    });

    maintenance.start();
    if (notifier) notifier->start();

    std::vector<std::thread> threads;
    for (int i = 1; i < io_threads; ++i) threads.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& thread : threads) thread.join();
    // The notifier finishes the delivery in progress; whatever is still pending stays in the
    // outbox for the next start.
    if (notifier) notifier->stop();
    maintenance.stop();
    writer.stop();
    log->info("stopped");
    return 0;
}

}  // namespace muster::collector
