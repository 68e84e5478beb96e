#pragma once
// A token bucket per agent: each agent may send a burst of `per_minute` requests, then one
// every 60/per_minute seconds. Thread-safe.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace muster::collector {

class rate_limiter {
  public:
    using clock = std::chrono::steady_clock;

    explicit rate_limiter(std::uint32_t per_minute);

    // Takes one token for key. nullopt when allowed; otherwise how long until one is
    // available (at least one second, for Retry-After).
    std::optional<std::chrono::seconds> take(std::string_view key, clock::time_point now);

  private:
    struct bucket {
        double tokens;
        clock::time_point updated;
    };
    void forget_full_buckets(clock::time_point now);

    double capacity_;
    double per_second_;
    std::mutex mutex_;
    std::unordered_map<std::string, bucket> buckets_;
    std::size_t inserts_since_cleanup_ = 0;
};

}  // namespace muster::collector
