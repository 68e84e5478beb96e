#include "agent/wire/session.h"

#include "agent/wire/identity.h"
#include "agent/wire/report.h"
#include "common/gzip.h"
#include "common/inventory_state.h"
#include "common/logging.h"
#include "common/version_info.h"

#include <algorithm>

namespace muster::agent::wire {
namespace {

trust_config trust_of(const collector_config& c) {
    return {c.ca_file, c.ca_fingerprint};
}

client_options client_options_of(std::function<bool()> should_stop) {
    client_options options;
    options.should_stop = std::move(should_stop);
    options.user_agent = std::string("muster-agent/") + muster::product_version;
    return options;
}

std::string seq_range(const std::vector<std::uint64_t>& seqs) {
    if (seqs.size() == 1) return "seq " + std::to_string(seqs.front());
    return "seq " + std::to_string(seqs.front()) + " to " + std::to_string(seqs.back());
}

// The sent_at a spooled report carries; nullopt when it cannot be read back.
std::optional<std::int64_t> sent_at_of(const report_entry& entry) {
    constexpr std::size_t max_report_bytes = std::size_t{1} << 30;
    auto text = gzip_decompress(entry.body, max_report_bytes);
    if (!text) return std::nullopt;
    boost::system::error_code ec;
    auto doc = boost::json::parse(*text, ec);
    if (ec || !doc.is_object()) return std::nullopt;
    const auto* sent_at = doc.as_object().if_contains("sent_at");
    if (!sent_at || !sent_at->is_int64()) return std::nullopt;
    return sent_at->get_int64();
}

}  // namespace

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::uint64_t seq_after_lost_state() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

agent_session::agent_session(const agent_config& config, std::function<bool()> should_stop)
    : config_(config),
      log_(get_logger("agent")),
      store_(config.state_dir),
      spool_(store_.spool_dir(), config.spool_max_bytes),
      identity_(load_or_create_key(store_.key_file())),
      client_(config.collector->url, trust_of(*config.collector),
              client_options_of(std::move(should_stop))) {
    if (identity_.created)
        log_->info("generated a new agent key in {}", store_.key_file().string());
    open_state(identity_.created);
}

void agent_session::open_state(bool key_created) {
    auto loaded = store_.load();
    using status = load_result::status;
    if (loaded.what == status::loaded) {
        state_ = loaded.state;
    } else {
        if (loaded.what == status::corrupt) {
            log_->error(
                "state file {} is corrupt ({}); moved to state.json.corrupt and starting over: "
                "the agent enrolls again with its key and sends a full report",
                store_.state_file().string(), loaded.problem);
            store_.set_aside_corrupt();
        }
        state_ = agent_state{};
        // A key that may have reported before must not reuse a seq the collector applied.
        if (!key_created) state_.next_seq = seq_after_lost_state();
        spool_.remove_from(0);
    }
    // Undo what a crash left uncommitted, and what was acknowledged but not yet removed.
    spool_.remove_from(state_.next_seq);
    spool_.remove_through(state_.acked_seq);
    std::vector<std::uint64_t> corrupt;
    spool_.list(&corrupt);
    if (!corrupt.empty()) {
        log_->error("removed {} corrupt spool file(s) ({}); the next report is full",
                    corrupt.size(), seq_range(corrupt));
        state_.next_full = true;
    }
    if (!state_.next_full && state_.last_seq != 0 && !store_.read_state(state_.last_seq)) {
        log_->warn("the state of report {} is missing; the next report is full", state_.last_seq);
        state_.next_full = true;
    }
    commit();
    store_.recover(state_);
}

enroll_result agent_session::enroll(const boost::json::object& inventory) {
    auto result = wire::enroll(client_, config_.collector->enrollment_token, identity_.key,
                               identity_facts(inventory));
    switch (result.status) {
        case enroll_status::active:
            state_.agent_id = result.agent_id;
            state_.next_full = true;
            commit();
            log_->info("enrolled with {} as agent {}", config_.collector->url_text,
                       result.agent_id);
            break;
        case enroll_status::pending:
            log_->warn("enrollment pending: an administrator must approve agent {}",
                       result.agent_id);
            break;
        case enroll_status::bad_token:
            log_->error("enrollment refused: the enrollment token is wrong or revoked ({})",
                        result.message);
            break;
        case enroll_status::revoked:
            log_->error("enrollment refused: this agent's key was revoked ({})", result.message);
            break;
        case enroll_status::untrusted:
        case enroll_status::failed:
            log_->error("enrollment failed: {}", result.message);
            break;
    }
    return result;
}

std::uint64_t agent_session::make_report(const boost::json::object& inventory,
                                         const report_extras& extras) {
    return make_report_of_state(make_state(inventory), extras);
}

std::optional<std::uint64_t> agent_session::make_report_from_last_state(
    const report_extras& extras) {
    if (state_.next_full || state_.last_seq == 0) return std::nullopt;
    auto last = store_.read_state(state_.last_seq);
    if (!last) return std::nullopt;
    return make_report_of_state(std::move(*last), extras);
}

std::uint64_t agent_session::make_report_of_state(boost::json::object state,
                                                  const report_extras& extras) {
    report_input in;
    in.key = &identity_.key;
    in.agent_id = state_.agent_id;
    in.seq = state_.next_seq;
    in.sent_at = unix_now();
    in.state = std::move(state);
    in.checks = extras.checks;
    in.expected_interval = extras.expected_interval;
    std::optional<boost::json::object> base;
    if (!state_.next_full && state_.last_seq != 0) base = store_.read_state(state_.last_seq);
    in.base_state = base ? &*base : nullptr;
    in.base_seq = state_.last_seq;
    auto built = build_report(in);

    auto size = spool::encode(built.entry).size();
    if (spool_.total_bytes() + size > spool_.max_bytes()) {
        state_.next_full = true;  // committed before anything is dropped
        commit();
        auto dropped = spool_.make_room(size);
        if (!dropped.empty())
            log_->warn(
                "spool full ({} bytes max): dropped {} unacknowledged report(s) ({}); "
                "sending a full report",
                spool_.max_bytes(), dropped.size(), seq_range(dropped));
        if (!built.entry.full() && std::ranges::count(dropped, state_.last_seq)) {
            in.base_state = nullptr;
            built = build_report(in);
        }
    }
    store_.write_state(in.seq, in.state);
    spool_.add(built.entry);
    state_.next_seq = in.seq + 1;
    state_.last_seq = in.seq;
    state_.last_state_hash = built.entry.state_hash;
    state_.next_full = false;
    commit();
    store_.recover(state_);
    log_->info("report {} ({}, {} bytes gzip{}) spooled", in.seq, built.entry.kind,
               built.entry.body.size(),
               in.checks ? ", " + std::to_string(in.checks->size()) + " check results" : "");
    return in.seq;
}

void agent_session::drop_chain(const char* why) {
    state_.next_full = true;  // committed before anything is dropped
    commit();
    auto dropped = spool_.drop_oldest_chain();
    if (!dropped.empty())
        log_->warn("dropped report(s) {} ({}); sending a full report", seq_range(dropped), why);
}

void agent_session::forget_enrollment() {
    state_.agent_id.clear();
    state_.next_full = true;
    commit();
    spool_.remove_from(0);
}

// Applies one answer to the spool and state. Returns true to go on with the next report.
bool agent_session::handle_verdict(const report_entry& entry, const report_result& r,
                                   delivery_result& result) {
    result.message = r.message;
    result.retry_after = r.retry_after;
    switch (r.verdict) {
        case report_verdict::acked:
            state_.acked_seq = entry.seq;
            state_.acked_state_hash = entry.state_hash;
            commit();
            spool_.remove(entry.seq);
            store_.recover(state_);
            log_->info("report {} ({}) acknowledged", entry.seq, entry.kind);
            return true;
        case report_verdict::resync:
        case report_verdict::replay:
        case report_verdict::rejected:
            log_->warn("{}", r.message);
            drop_chain("refused by the collector");
            if (!spool_.list().empty()) return true;
            result.status = delivery_status::needs_full_report;
            return false;
        case report_verdict::clock_skew:
            return clock_skew_verdict(entry, r, result);
        case report_verdict::unknown_agent:
            log_->warn("{}; enrolling again", r.message);
            forget_enrollment();
            result.status = delivery_status::needs_enrollment;
            return false;
        case report_verdict::revoked:
            log_->error("{}; this agent is revoked and stops sending", r.message);
            result.status = delivery_status::revoked;
            return false;
        case report_verdict::untrusted:
        case report_verdict::retry:
            log_->error("report {} not delivered: {}; it stays in the spool", entry.seq, r.message);
            result.status = delivery_status::retry_later;
            return false;
        case report_verdict::cancelled:
            result.status = delivery_status::cancelled;
            return false;
    }
    return false;
}

// A report from the future either shows this clock is still ahead (keep it, the operator
// must set the clock right) or was made before the clock was set back: then its sent_at stays
// ahead for as long as the clock was wrong, so it is dropped and a full report made now.
bool agent_session::clock_skew_verdict(const report_entry& entry, const report_result& r,
                                       delivery_result& result) {
    auto sent_at = sent_at_of(entry);
    if (sent_at && *sent_at > unix_now()) {
        log_->warn("{}; it was made while this machine's clock was ahead", r.message);
        drop_chain("made while the clock was ahead");
        if (!spool_.list().empty()) return true;
        result.status = delivery_status::needs_full_report;
        return false;
    }
    log_->error(
        "report {} not delivered: {}; this machine's clock is ahead of the collector's: set "
        "it right (NTP); the report stays in the spool",
        entry.seq, r.message);
    result.status = delivery_status::retry_later;
    return false;
}

delivery_result agent_session::deliver() {
    delivery_result result;
    for (;;) {
        if (!enrolled()) {
            result.status = delivery_status::needs_enrollment;
            return result;
        }
        auto pending = spool_.list();
        if (pending.empty()) {
            result.status = delivery_status::done;
            return result;
        }
        auto entry = spool_.read(pending.front().seq);
        if (!entry) {
            drop_chain("the spool file is unreadable");
            continue;
        }
        auto r = post_report(client_, state_.agent_id, *entry);
        if (!handle_verdict(*entry, r, result)) return result;
    }
}

}  // namespace muster::agent::wire
