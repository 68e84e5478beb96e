#pragma once
// Turning the bytes of POST /api/v1/reports into a verified_report, in the order
// docs/protocol.md requires: the signature over the raw body first; only an authenticated
// body is decompressed (with a cap) and parsed.
//
// Error policy: every problem is a refusal value (status, code, message); nothing throws for
// bad input.
#include "collector/http_types.h"
#include "collector/store.h"

#include <chrono>
#include <cstdint>
#include <string_view>
#include <variant>

namespace muster::collector {

inline constexpr std::int64_t protocol_version = 1;

// True only when signature_base64 is the Base64 of a valid Ed25519 signature of body by the
// agent's key.
bool signature_valid(const agent_record& agent, std::string_view signature_base64,
                     std::string_view body);

struct report_rules {
    std::size_t max_decompressed = 256u << 20;
    std::chrono::seconds clock_skew{300};
};

// Decompresses and parses an AUTHENTICATED body of agent_id and checks its envelope
// (protocol, agent_id, seq, sent_at within the clock skew of now).
std::variant<verified_report, refusal> open_report(std::string_view agent_id, std::string_view body,
                                                   const report_rules& rules, std::int64_t now);

}  // namespace muster::collector
