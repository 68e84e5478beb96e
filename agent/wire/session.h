#pragma once
// The agent's side of the protocol for one configuration: its identity and state directory,
// the spool, and the connection to the collector. `once` and the daemon both drive it:
//
//     agent_session s(config, should_stop);
//     if (!s.enrolled()) s.enroll(inventory);
//     s.make_report(inventory);        // into the spool, committed
//     s.deliver();                     // oldest first, one at a time, until empty or failure
//
// Error policy: protocol answers and network problems are values (enroll_result,
// delivery_result) and are logged here, one line each; a state directory that cannot be
// written throws state_error, an unreadable key crypto_error, a bad CA file tls_setup_error.
#include "agent/config.h"
#include "agent/wire/collector_api.h"
#include "agent/wire/https_client.h"
#include "agent/wire/identity.h"
#include "agent/wire/spool.h"
#include "agent/wire/state_store.h"

#include <spdlog/logger.h>
#include <boost/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace muster::agent::wire {

enum class delivery_status {
    done,               // the spool is empty: everything made was acknowledged
    retry_later,        // network, server busy, untrusted certificate: the spool is kept
    needs_full_report,  // the collector asked for the full state: make a report now
    needs_enrollment,   // the collector does not know this agent: enroll, then report
    revoked,            // the collector refuses this agent: stop sending
    cancelled,          // should_stop() said so
};

// What a report carries besides the inventory (docs/protocol.md, "Health checks").
struct report_extras {
    std::optional<boost::json::array> checks;  // results since the previous report
    std::optional<std::int64_t> expected_interval;
};

struct delivery_result {
    delivery_status status = delivery_status::done;
    std::optional<std::chrono::seconds> retry_after;
    std::string message;
};

class agent_session {
  public:
    // Opens (or creates) the state directory, the key and the state, and recovers from a
    // crash of a previous run.
    agent_session(const agent_config& config, std::function<bool()> should_stop = {});

    bool enrolled() const { return !state_.agent_id.empty(); }
    const agent_state& state() const { return state_; }
    const ed25519_key& key() const { return identity_.key; }

    enroll_result enroll(const boost::json::object& inventory);
    // Turns an inventory into the next report (full or delta), spools and commits it.
    // Returns its seq.
    std::uint64_t make_report(const boost::json::object& inventory,
                              const report_extras& extras = {});
    // The next report without a new inventory: a delta from the previous report's state
    // with no changes, carrying extras (check results). Nullopt when the next report must
    // be full (none made yet, resync, dropped spool): that needs an inventory.
    std::optional<std::uint64_t> make_report_from_last_state(const report_extras& extras);
    delivery_result deliver();

  private:
    void open_state(bool key_created);
    std::uint64_t make_report_of_state(boost::json::object state, const report_extras& extras);
    void commit() { store_.save(state_); }
    void drop_chain(const char* why);
    void forget_enrollment();
    bool handle_verdict(const report_entry& entry, const report_result& r, delivery_result& result);
    bool clock_skew_verdict(const report_entry& entry, const report_result& r,
                            delivery_result& result);

    agent_config config_;
    std::shared_ptr<spdlog::logger> log_;
    state_store store_;
    spool spool_;
    loaded_key identity_;
    agent_state state_;
    https_client client_;
};

// Unix time in seconds, and a starting seq for a key that has reported before under a
// state that was lost: larger than any seq it can have used, so seq keeps growing.
std::int64_t unix_now();
std::uint64_t seq_after_lost_state();

}  // namespace muster::agent::wire
