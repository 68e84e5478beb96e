#pragma once
// A webhook receiver for tests: a real HTTP (or HTTPS) server on a loopback port that records
// every request and answers with scripted statuses (for example 500 twice, then 200).
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace muster::test {

struct received_request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // field names in lower case
    std::string body;
    int answered = 0;  // the status it was answered with
};

struct receiver_tls {
    std::string cert_file;  // PEM chain, server certificate first
    std::string key_file;
};

class webhook_receiver {
  public:
    explicit webhook_receiver(std::optional<receiver_tls> tls = std::nullopt);
    ~webhook_receiver();
    webhook_receiver(const webhook_receiver&) = delete;
    webhook_receiver& operator=(const webhook_receiver&) = delete;

    int port() const { return port_; }
    // "http://127.0.0.1:PORT/path" (https when TLS).
    std::string url(const std::string& path = "/hook") const;

    // The next requests are answered with these statuses, in order; then default_status.
    void answer_next(std::vector<int> statuses);
    void set_default_status(int status);
    // A header added to every answer (such as Retry-After).
    void set_answer_header(std::string name, std::string value);

    std::vector<received_request> requests();
    // Waits (bounded) until at least count requests arrived; false on timeout.
    bool wait_for(std::size_t count, int timeout_ms = 30000);

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
    int port_ = 0;
    bool tls_ = false;
};

}  // namespace muster::test
