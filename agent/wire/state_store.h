#pragma once
// The agent's state directory (mode 0700):
//
//   agent.key            Ed25519 private key, PEM, 0600 (identity.h)
//   state.json           the commit point: agent id, sequence numbers, state hashes
//   states/<seq>.json.gz the canonical state after report <seq>; only two are kept: the one
//                        the collector acknowledged last (acked_seq) and the one of the
//                        newest report made (last_seq), the base of the next delta
//   spool/<seq>.report   reports not yet acknowledged (spool.h)
//
// Crash consistency: new files are written completely under a temporary name and renamed,
// and state.json is written last, so it is the commit point. Whatever a crash leaves that
// state.json does not reference (a stray .tmp, a state or spool file of a report never
// committed) is removed by recover() at the next start.
//
// Error policy: I/O failures throw state_error with the path and the system's reason; a
// corrupt state.json is reported by load() as a value so that the caller decides.
#include <boost/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

namespace muster::agent::wire {

class state_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct agent_state {
    std::string agent_id;  // empty until enrolled
    std::uint64_t next_seq = 1;
    std::uint64_t acked_seq = 0;  // 0: nothing acknowledged yet
    std::string acked_state_hash;
    std::uint64_t last_seq = 0;  // the newest report made, spooled or acknowledged; 0: none
    std::string last_state_hash;
    bool next_full = true;  // the next report must be full (first one, resync, dropped spool)

    bool operator==(const agent_state&) const = default;
};

struct load_result {
    enum class status { loaded, absent, corrupt } what = status::absent;
    agent_state state;
    std::string problem;  // for corrupt: what is wrong, for the log
};

class state_store {
  public:
    // Creates the directory (and states/) with mode 0700 when missing.
    explicit state_store(std::filesystem::path dir);

    const std::filesystem::path& dir() const { return dir_; }
    std::filesystem::path state_file() const { return dir_ / "state.json"; }
    std::filesystem::path spool_dir() const { return dir_ / "spool"; }
    std::filesystem::path key_file() const { return dir_ / "agent.key"; }

    load_result load() const;
    // Atomically replaces state.json: the commit point of every change.
    void save(const agent_state& state) const;
    // Moves a corrupt state.json aside (state.json.corrupt) so that it can be inspected.
    void set_aside_corrupt() const;

    void write_state(std::uint64_t seq, const boost::json::object& state) const;
    // Nullopt when the file is absent, unreadable or corrupt.
    std::optional<boost::json::object> read_state(std::uint64_t seq) const;
    // Removes temporary files and state files other than those state references.
    void recover(const agent_state& state) const;

  private:
    std::filesystem::path state_path(std::uint64_t seq) const;
    std::filesystem::path dir_;
};

// Encoding of state.json, exposed for tests.
std::string serialize_state(const agent_state& state);
// Nullopt with *problem set when text is not a valid state.json.
std::optional<agent_state> parse_state(std::string_view text, std::string* problem);

// Zero-padded so that file names sort in sequence order.
std::string seq_file_stem(std::uint64_t seq);
// The sequence number of a file named <20 digits><suffix>; nullopt for any other name.
std::optional<std::uint64_t> seq_of_file_name(std::string_view name, std::string_view suffix);

}  // namespace muster::agent::wire
