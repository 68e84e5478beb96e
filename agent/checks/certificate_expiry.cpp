// certificate_expiry: the days left before a certificate expires, from a PEM
// file (every certificate in it; the one expiring first counts, as a chain is
// only as good as its shortest link) or from what a TLS server at host:port
// presents (its own certificate, read without verification so that an expired
// one is still measured). Lower is worse; an expired certificate has negative
// days left.
#include "agent/checks/keys.h"
#include "agent/checks/net.h"
#include "agent/checks/types.h"
#include "common/file.h"
#include "common/openssl_handles.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cmath>
#include <vector>

namespace muster::agent::checks {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
constexpr auto checked = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_pem_file = 4 << 20;

struct settings {
    std::string file;  // or host and port
    std::string host;
    std::uint16_t port = 0;
    thresholds days;  // days left, lower is worse
};

std::string common_name(X509* certificate) {
    char name[256] = {};
    X509_NAME* subject = X509_get_subject_name(certificate);
    if (subject && X509_NAME_get_text_by_NID(subject, NID_commonName, name, sizeof name) > 0)
        return std::string("'") + name + "'";
    return "without a common name";
}

std::optional<double> days_left(X509* certificate) {
    int days = 0, seconds = 0;
    if (ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(certificate)) != 1)
        return std::nullopt;
    return days + seconds / 86400.0;
}

std::string expiry_date(X509* certificate) {
    tm when{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(certificate), &when) != 1) return "?";
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &when);
    return text;
}

check_outcome judge(const settings& s, X509* certificate, const std::string& where) {
    auto left = days_left(certificate);
    if (!left) return unknown("the expiry date of the certificate " + where + " is unreadable");
    double days = std::round(*left * 10) / 10;
    auto status = s.days.classify(days);
    std::string when = days < 0 ? "expired " + format_number(-days) + " days ago"
                                : "expires in " + format_number(days) + " days";
    std::string note;
    if (status != check_status::ok)
        note = " (" + std::string(status_name(status)) + " below " +
               format_number(status == check_status::warning ? s.days.warning : s.days.critical) +
               " days)";
    return outcome_of(status,
                      "certificate " + common_name(certificate) + " " + where + " " + when +
                          ", on " + expiry_date(certificate) + note,
                      days, "d");
}

check_outcome check_file(const settings& s) {
    auto pem = read_file(s.file, max_pem_file);
    if (!pem) return unknown("cannot read " + s.file + ": " + pem.error().message());
    bio_ptr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
    if (!bio) return unknown("out of memory reading " + s.file);
    std::vector<x509_ptr> certificates;
    while (x509_ptr c{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)})
        certificates.push_back(std::move(c));
    ERR_clear_error();  // the end of the file reads as an error
    if (certificates.empty()) return unknown(s.file + " holds no PEM certificate");
    X509* first = certificates.front().get();
    for (const auto& c : certificates) {
        auto a = days_left(c.get()), b = days_left(first);
        if (a && (!b || *a < *b)) first = c.get();
    }
    return judge(s, first, "in " + s.file);
}

asio::awaitable<check_outcome> fetch(const settings& s, beast::tcp_stream& tcp,
                                     net::tcp::resolver& resolver, asio::ssl::context& tls,
                                     std::chrono::steady_clock::time_point deadline) {
    auto problem = co_await net::connect(tcp, resolver, s.host, s.port, deadline);
    if (!problem.empty()) co_return critical(problem);
    beast::ssl_stream<beast::tcp_stream&> stream(tcp, tls);
    net::prepare_tls(stream.native_handle(), s.host, false);
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, checked);
    auto where = "of " + net::authority(s.host, s.port);
    if (ec)
        co_return critical("TLS handshake with " + net::authority(s.host, s.port) +
                           " failed: " + ec.message());
    x509_ptr certificate(SSL_get1_peer_certificate(stream.native_handle()));
    if (!certificate) co_return unknown(net::authority(s.host, s.port) + " sent no certificate");
    co_return judge(s, certificate.get(), where);
}

check_outcome check_server(const settings& s, const run_context& ctx) {
    asio::io_context io;
    auto tls = net::tls_context(false, {});
    net::tcp::resolver resolver(io);
    beast::tcp_stream tcp(io);
    return net::drive(io, fetch(s, tcp, resolver, tls, ctx.deadline), ctx, [&] {
        resolver.cancel();
        tcp.cancel();
    });
}

double days_of(std::chrono::milliseconds d) {
    return std::chrono::duration<double>(d).count() / 86400;
}

}  // namespace

check_fn read_certificate_expiry(config_map& map) {
    settings s;
    if (map.has("file") == (map.has("host") || map.has("port")))
        map.fail(map.has("file") ? "file" : "host", "set either file, or host and port");
    if (map.has("file")) {
        s.file = get_absolute_path(map, "file");
    } else {
        s.host = map.get_string("host", [](std::string_view text) {
            return text.empty() ? std::optional<std::string>("cannot be empty") : std::nullopt;
        });
        s.port = get_port(map, "port");
    }
    auto warning = map.get_duration("warning", 24h * 30, 0s, 24h * 3660);
    auto critical_left = map.get_duration("critical", 24h * 7, 0s, 24h * 3660);
    if (warning < critical_left)
        map.fail(map.has("warning") ? "warning" : "critical",
                 "warning (" + format_duration(warning) + ") cannot be less than critical (" +
                     format_duration(critical_left) + ")");
    s.days = thresholds{days_of(warning), days_of(critical_left), true};
    return [s](const run_context& ctx) {
        return s.file.empty() ? check_server(s, ctx) : check_file(s);
    };
}

}  // namespace muster::agent::checks
