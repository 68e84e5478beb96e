#pragma once
// The on-disk spool of reports not yet acknowledged by the collector: one file per report,
// spool/<seq, 20 digits>.report, holding the exact signed body, so that a resend is
// byte-identical (the collector answers a resent, already applied report with its original
// acknowledgement).
//
// File format: one line of JSON metadata, then the raw gzip body:
//   {"seq":7,"kind":"delta","base_seq":6,"state_hash":"…","signature":"<base64>","body_bytes":312}\n<body>
//
// Every delta depends on the report before it (its base_seq), so dropping a report makes
// the deltas after it useless up to the next full report: they are dropped with it.
//
// Error policy: I/O failures throw state_error; a corrupt spool file is removed by
// list() and reported in its result so that the caller logs it and sends a full report.
#include "agent/wire/state_store.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace muster::agent::wire {

struct report_entry {
    std::uint64_t seq = 0;
    std::string kind;  // "full" or "delta"
    std::uint64_t base_seq = 0;
    std::string state_hash;
    std::string body;       // gzip bytes, exactly as sent
    std::string signature;  // raw 64-byte Ed25519 signature of body

    bool full() const { return kind == "full"; }
};

struct spooled {
    std::uint64_t seq;
    bool full;
    std::uint64_t bytes;  // size of the file
};

class spool {
  public:
    // Creates the directory (0700) when missing.
    spool(std::filesystem::path dir, std::uint64_t max_bytes);

    // The spooled reports, oldest first. Corrupt files are removed and their sequence
    // numbers added to *corrupt when given.
    std::vector<spooled> list(std::vector<std::uint64_t>* corrupt = nullptr) const;
    std::uint64_t total_bytes() const;
    std::uint64_t max_bytes() const { return max_bytes_; }

    // Drops the oldest reports (and the deltas that depend on them) until `incoming` more
    // bytes fit under the cap. Returns the dropped sequence numbers, oldest first.
    std::vector<std::uint64_t> make_room(std::uint64_t incoming) const;
    // Drops the oldest report and the deltas after it up to the next full report.
    std::vector<std::uint64_t> drop_oldest_chain() const;

    void add(const report_entry& entry) const;
    // Nullopt when the file is absent or corrupt.
    std::optional<report_entry> read(std::uint64_t seq) const;
    void remove(std::uint64_t seq) const;
    // Removes reports with seq >= first (made but never committed in state.json).
    void remove_from(std::uint64_t first) const;
    // Removes reports with seq <= last (acknowledged).
    void remove_through(std::uint64_t last) const;

    // The file content of an entry; exposed for tests and for its size.
    static std::string encode(const report_entry& entry);
    static std::optional<report_entry> decode(std::string_view content);

  private:
    std::filesystem::path path_of(std::uint64_t seq) const;
    std::filesystem::path dir_;
    std::uint64_t max_bytes_;
};

}  // namespace muster::agent::wire
