// tcp_connect: whether host:port accepts a TCP connection within the timeout;
// the value is the time the connection took. Refused, unreachable, unresolvable
// and timed out are all critical: the service cannot be reached.
#include "agent/checks/keys.h"
#include "agent/checks/net.h"
#include "agent/checks/types.h"

#include <cmath>

namespace muster::agent::checks {
namespace {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

asio::awaitable<check_outcome> try_connect(boost::beast::tcp_stream& stream,
                                           net::tcp::resolver& resolver, std::string host,
                                           std::uint16_t port, clock::time_point deadline) {
    auto start = clock::now();
    auto problem = co_await net::connect(stream, resolver, host, port, deadline);
    if (!problem.empty()) co_return critical(problem);
    double ms = std::chrono::duration<double, std::milli>(clock::now() - start).count();
    co_return outcome_of(
        check_status::ok,
        net::authority(host, port) + " accepted a connection in " + format_number(ms, 1) + " ms",
        std::round(ms * 10) / 10, "ms");
}

}  // namespace

check_fn read_tcp_connect(config_map& map) {
    auto host = map.get_string("host", [](std::string_view text) {
        return text.empty() ? std::optional<std::string>("cannot be empty") : std::nullopt;
    });
    auto port = get_port(map, "port");
    return [host, port](const run_context& ctx) {
        asio::io_context io;
        net::tcp::resolver resolver(io);
        boost::beast::tcp_stream stream(io);
        return net::drive(io, try_connect(stream, resolver, host, port, ctx.deadline), ctx, [&] {
            resolver.cancel();
            stream.cancel();
        });
    };
}

}  // namespace muster::agent::checks
