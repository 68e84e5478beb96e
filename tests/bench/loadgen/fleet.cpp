#include "tests/bench/loadgen/fleet.h"

#include "common/gzip.h"
#include "common/inventory_state.h"

#include <ctime>

namespace muster::loadgen {
namespace {

constexpr int protocol_version = 1;

std::int64_t unix_now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

}  // namespace

fleet::fleet(const fleet_shape& shape, std::size_t agents, std::string token, int gzip_level)
    : universe_(shape), token_(std::move(token)), gzip_level_(gzip_level) {
    agents_.reserve(agents);
    for (std::size_t i = 0; i < agents; ++i) agents_.emplace_back(ed25519_key::generate());
}

prepared_request fleet::enroll_request(std::size_t i) const {
    prepared_request r;
    r.agent = i;
    r.is_enroll = true;
    r.body = boost::json::serialize(
        boost::json::object{{"token", token_},
                            {"public_key", base64_encode(agents_[i].key.public_raw())},
                            {"facts", host_facts(universe_, i)}});
    return r;
}

prepared_request fleet::sign_report(std::size_t i, boost::json::object body) {
    auto& a = agents_[i];
    prepared_request r;
    r.agent = i;
    r.seq = a.next_seq++;
    a.last_seq = r.seq;
    body["protocol"] = protocol_version;
    body["agent_id"] = a.agent_id;
    body["seq"] = r.seq;
    body["sent_at"] = unix_now();
    body["state_hash"] = a.state_hash;
    r.body = gzip_compress(boost::json::serialize(body), gzip_level_);
    r.signature = base64_encode(a.key.sign(r.body));
    return r;
}

prepared_request fleet::full_report(std::size_t i) {
    auto& a = agents_[i];
    auto state = make_state(host_inventory(universe_, i, a.churn_rounds));
    a.state_hash = state_hash(state);
    return sign_report(i, {{"kind", "full"}, {"base_seq", 0}, {"inventory", std::move(state)}});
}

prepared_request fleet::unchanged_delta(std::size_t i) {
    auto base = agents_[i].last_seq;
    return sign_report(i,
                       {{"kind", "delta"}, {"base_seq", base}, {"changes", boost::json::object{}}});
}

prepared_request fleet::churn_delta(std::size_t i) {
    auto& a = agents_[i];
    auto before = make_state(host_inventory(universe_, i, a.churn_rounds));
    ++a.churn_rounds;
    auto after = make_state(host_inventory(universe_, i, a.churn_rounds));
    a.state_hash = state_hash(after);
    auto base = a.last_seq;
    return sign_report(
        i, {{"kind", "delta"}, {"base_seq", base}, {"changes", compute_changes(before, after)}});
}

}  // namespace muster::loadgen
