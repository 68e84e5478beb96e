#include "support/webhook_receiver.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <chrono>

namespace muster::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct webhook_receiver::impl {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor{io};
    std::optional<asio::ssl::context> tls;
    std::thread thread;

    std::mutex mutex;
    std::condition_variable arrived;
    std::vector<received_request> received;
    std::deque<int> scripted;
    int default_status = 200;
    std::vector<std::pair<std::string, std::string>> extra_headers;

    int next_status() {
        std::lock_guard lock(mutex);
        if (scripted.empty()) return default_status;
        int status = scripted.front();
        scripted.pop_front();
        return status;
    }

    void record(const http::request<http::string_body>& request, int status) {
        received_request out;
        out.method = std::string(request.method_string());
        out.target = std::string(request.target());
        for (const auto& field : request) {
            std::string name(field.name_string());
            std::transform(name.begin(), name.end(), name.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            out.headers[name] = std::string(field.value());
        }
        out.body = request.body();
        out.answered = status;
        {
            std::lock_guard lock(mutex);
            received.push_back(std::move(out));
        }
        arrived.notify_all();
    }

    template <typename Stream>
    asio::awaitable<void> exchange(Stream& stream) {
        beast::error_code ec;
        auto on_error = asio::redirect_error(asio::use_awaitable, ec);
        beast::flat_buffer buffer;
        http::request<http::string_body> request;
        co_await http::async_read(stream, buffer, request, on_error);
        if (ec) co_return;
        int status = next_status();
        http::response<http::string_body> response{static_cast<http::status>(status), 11};
        response.set(http::field::content_type, "text/plain");
        {
            std::lock_guard lock(mutex);
            for (const auto& [name, value] : extra_headers) response.set(name, value);
        }
        response.body() =
            status < 300 ? "ok\n" : "scripted failure " + std::to_string(status) + "\nsecond line";
        response.keep_alive(false);
        response.prepare_payload();
        // Recorded before answering, so a test that saw the answer also sees the record.
        record(request, status);
        co_await http::async_write(stream, response, on_error);
    }

    asio::awaitable<void> serve(asio::ip::tcp::socket socket) {
        beast::tcp_stream tcp(std::move(socket));
        tcp.expires_after(std::chrono::seconds(30));
        if (!tls) {
            co_await exchange(tcp);
            beast::error_code ignored;
            tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
            co_return;
        }
        beast::ssl_stream<beast::tcp_stream&> stream(tcp, *tls);
        beast::error_code ec;
        co_await stream.async_handshake(asio::ssl::stream_base::server,
                                        asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        co_await exchange(stream);
        co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
    }

    asio::awaitable<void> accept_loop() {
        for (;;) {
            beast::error_code ec;
            auto socket =
                co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return;
            asio::co_spawn(io, serve(std::move(socket)), asio::detached);
        }
    }
};

webhook_receiver::webhook_receiver(std::optional<receiver_tls> tls)
    : impl_(std::make_unique<impl>()), tls_(tls.has_value()) {
    if (tls) {
        impl_->tls.emplace(asio::ssl::context::tls_server);
        impl_->tls->use_certificate_chain_file(tls->cert_file);
        impl_->tls->use_private_key_file(tls->key_file, asio::ssl::context::pem);
    }
    asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(endpoint.protocol());
    impl_->acceptor.bind(endpoint);
    impl_->acceptor.listen();
    port_ = impl_->acceptor.local_endpoint().port();
    asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
    impl_->thread = std::thread([this] { impl_->io.run(); });
}

webhook_receiver::~webhook_receiver() {
    impl_->io.stop();
    impl_->thread.join();
}

std::string webhook_receiver::url(const std::string& path) const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
}

void webhook_receiver::answer_next(std::vector<int> statuses) {
    std::lock_guard lock(impl_->mutex);
    impl_->scripted.insert(impl_->scripted.end(), statuses.begin(), statuses.end());
}

void webhook_receiver::set_default_status(int status) {
    std::lock_guard lock(impl_->mutex);
    impl_->default_status = status;
}

void webhook_receiver::set_answer_header(std::string name, std::string value) {
    std::lock_guard lock(impl_->mutex);
    impl_->extra_headers.emplace_back(std::move(name), std::move(value));
}

std::vector<received_request> webhook_receiver::requests() {
    std::lock_guard lock(impl_->mutex);
    return impl_->received;
}

bool webhook_receiver::wait_for(std::size_t count, int timeout_ms) {
    std::unique_lock lock(impl_->mutex);
    return impl_->arrived.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                   [&] { return impl_->received.size() >= count; });
}

}  // namespace muster::test
