#pragma once
// Exponential backoff for retries (docs/protocol.md, "Retry semantics"): 1 s doubling to
// 5 min, each delay spread by ±20 % so that agents that failed together do not retry
// together.
#include <chrono>
#include <random>

namespace muster::agent::wire {

class backoff {
  public:
    explicit backoff(std::chrono::milliseconds first = std::chrono::seconds(1),
                     std::chrono::milliseconds max = std::chrono::minutes(5));
    // The delay before the next attempt; each call doubles the base up to max.
    std::chrono::milliseconds next();
    void reset() { current_ = first_; }

  private:
    std::chrono::milliseconds first_, max_, current_;
    std::mt19937_64 random_;
};

// A uniformly random duration in [0, max]; for the inventory splay.
std::chrono::milliseconds random_duration(std::chrono::milliseconds max);

}  // namespace muster::agent::wire
