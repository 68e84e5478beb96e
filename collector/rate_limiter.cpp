#include "collector/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace muster::collector {
namespace {

// A map of every agent ever seen would grow without bound; buckets that refilled completely
// carry no information and are dropped now and then.
constexpr std::size_t cleanup_every = 4096;

}  // namespace

rate_limiter::rate_limiter(std::uint32_t per_minute)
    : capacity_(per_minute), per_second_(per_minute / 60.0) {}

std::optional<std::chrono::seconds> rate_limiter::take(std::string_view key,
                                                       clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto found = buckets_.find(std::string(key));
    if (found == buckets_.end()) {
        if (++inserts_since_cleanup_ >= cleanup_every) forget_full_buckets(now);
        found = buckets_.emplace(std::string(key), bucket{capacity_, now}).first;
    }
    bucket& b = found->second;
    std::chrono::duration<double> elapsed = now - b.updated;
    b.tokens = std::min(capacity_, b.tokens + std::max(0.0, elapsed.count()) * per_second_);
    b.updated = std::max(b.updated, now);
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return std::nullopt;
    }
    double wait = (1.0 - b.tokens) / per_second_;
    return std::chrono::seconds(std::max<std::int64_t>(1, std::llround(std::ceil(wait))));
}

void rate_limiter::forget_full_buckets(clock::time_point now) {
    inserts_since_cleanup_ = 0;
    std::erase_if(buckets_, [&](const auto& entry) {
        std::chrono::duration<double> elapsed = now - entry.second.updated;
        return entry.second.tokens + elapsed.count() * per_second_ >= capacity_;
    });
}

}  // namespace muster::collector
