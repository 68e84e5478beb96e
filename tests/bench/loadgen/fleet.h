#pragma once
// The simulated agents: each has its own Ed25519 key, enrolls with the token, then sends
// reports built exactly as docs/protocol.md says (gzip body signed over the compressed
// bytes, seq, base_seq, state_hash of the canonical state). A host's state is rebuilt from
// (seed, host, churn rounds) when needed, so ten thousand agents cost a key and a hash each.
//
// Error policy: building a request never fails for the documents built here; OpenSSL
// failures throw crypto_error (fatal for the run).
#include "common/crypto.h"
#include "tests/bench/loadgen/inventory.h"

#include <cstdint>
#include <string>
#include <vector>

namespace muster::loadgen {

struct prepared_request {
    std::size_t agent = 0;
    bool is_enroll = false;
    std::uint64_t seq = 0;  // 0 for an enrollment
    std::string body;       // as sent: JSON for enroll, gzip for a report
    std::string signature;  // base64, reports only
};

struct sim_agent {
    explicit sim_agent(ed25519_key k) : key(std::move(k)) {}
    ed25519_key key;
    std::string agent_id;  // known once enrolled
    std::uint64_t next_seq = 1;
    std::uint64_t last_seq = 0;      // the seq of the previous report built
    std::uint64_t churn_rounds = 0;  // state version of the previous report built
    std::string state_hash;          // of the previous report built
};

class fleet {
  public:
    fleet(const fleet_shape& shape, std::size_t agents, std::string token, int gzip_level);

    std::size_t size() const { return agents_.size(); }
    sim_agent& agent(std::size_t i) { return agents_[i]; }

    // The requests below advance the agent's seq and state as if each were acknowledged;
    // build one agent's requests in order, from one thread at a time.
    prepared_request enroll_request(std::size_t i) const;
    prepared_request full_report(std::size_t i);
    prepared_request unchanged_delta(std::size_t i);
    prepared_request churn_delta(std::size_t i);  // a few packages upgraded

  private:
    prepared_request sign_report(std::size_t i, boost::json::object body);

    package_universe universe_;
    std::string token_;
    int gzip_level_;
    std::vector<sim_agent> agents_;
};

}  // namespace muster::loadgen
