#include "agent/wire/backoff.h"

#include <algorithm>

namespace muster::agent::wire {

backoff::backoff(std::chrono::milliseconds first, std::chrono::milliseconds max)
    : first_(first), max_(max), current_(first), random_(std::random_device{}()) {}

std::chrono::milliseconds backoff::next() {
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    auto delay = std::chrono::milliseconds(
        static_cast<std::int64_t>(static_cast<double>(current_.count()) * jitter(random_)));
    current_ = std::min(current_ * 2, max_);
    return delay;
}

std::chrono::milliseconds random_duration(std::chrono::milliseconds max) {
    if (max.count() <= 0) return std::chrono::milliseconds(0);
    std::mt19937_64 random(std::random_device{}());
    std::uniform_int_distribution<std::int64_t> pick(0, max.count());
    return std::chrono::milliseconds(pick(random));
}

}  // namespace muster::agent::wire
