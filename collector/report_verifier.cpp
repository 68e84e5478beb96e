#include "collector/report_verifier.h"

#include "common/crypto.h"
#include "common/gzip.h"

#include <boost/json.hpp>

namespace muster::collector {
namespace {

refusal malformed(std::string message) {
    return {http::status::bad_request, "malformed", std::move(message)};
}

std::optional<std::int64_t> int_member(const boost::json::object& document, std::string_view key) {
    const auto* value = document.if_contains(key);
    if (!value) return std::nullopt;
    if (value->is_int64()) return value->get_int64();
    if (value->is_uint64() && value->get_uint64() <= INT64_MAX) {
        return static_cast<std::int64_t>(value->get_uint64());
    }
    return std::nullopt;
}

std::optional<refusal> check_envelope(const boost::json::object& document,
                                      std::string_view agent_id, const report_rules& rules,
                                      std::int64_t now) {
    auto protocol = int_member(document, "protocol");
    if (protocol != protocol_version) {
        return malformed("'protocol' must be " + std::to_string(protocol_version));
    }
    const auto* id = document.if_contains("agent_id");
    if (!id || !id->is_string() || id->get_string() != agent_id) {
        return malformed("'agent_id' does not match the X-Muster-Agent-Id header");
    }
    auto seq = int_member(document, "seq");
    if (!seq || *seq < 1) return malformed("'seq' must be a positive integer");
    auto sent_at = int_member(document, "sent_at");
    if (!sent_at) return malformed("'sent_at' must be an integer (Unix time in seconds)");
    // Only a report from the future betrays a skewed clock: an old one is legitimate (it
    // waited in the agent's spool while the collector was away), and replays are stopped by
    // the sequence number, not by the time.
    // Unsigned: a signed subtraction overflows for a sent_at near INT64_MIN or INT64_MAX.
    if (*sent_at <= now) return std::nullopt;
    auto offset = static_cast<std::uint64_t>(*sent_at) - static_cast<std::uint64_t>(now);
    if (offset > static_cast<std::uint64_t>(rules.clock_skew.count())) {
        return refusal{http::status::bad_request, "clock_skew",
                       "'sent_at' is " + std::to_string(offset) +
                           " s ahead of the collector's clock; at most " +
                           std::to_string(rules.clock_skew.count()) + " s are allowed"};
    }
    return std::nullopt;
}

}  // namespace

bool signature_valid(const agent_record& agent, std::string_view signature_base64,
                     std::string_view body) {
    auto signature = base64_decode(signature_base64);
    if (!signature || signature->size() != ed25519_key::signature_size) return false;
    if (agent.public_key.size() != ed25519_key::public_size) return false;
    try {
        return ed25519_verify(ed25519_key::from_public_raw(agent.public_key), body, *signature);
    } catch (const crypto_error&) {
        return false;  // a stored key OpenSSL does not accept verifies nothing
    }
}

std::variant<verified_report, refusal> open_report(std::string_view agent_id, std::string_view body,
                                                   const report_rules& rules, std::int64_t now) {
    auto text = gzip_decompress(body, rules.max_decompressed);
    if (!text) {
        if (text.error() == gzip_errc::too_large) {
            return refusal{http::status::payload_too_large, "too_large",
                           "the decompressed report exceeds " +
                               std::to_string(rules.max_decompressed) + " bytes"};
        }
        return malformed("the body is not valid gzip: " + text.error().message());
    }
    boost::system::error_code ec;
    // The document's nodes live in one arena that goes with it: a full report has some
    // 10,000 of them, and allocating and freeing each one was most of a tenth of its cost.
    auto arena = boost::json::make_shared_resource<boost::json::monotonic_resource>(text->size());
    boost::json::value parsed = boost::json::parse(*text, ec, arena);
    if (ec) return malformed("the report is not valid JSON: " + ec.message());
    if (!parsed.is_object()) return malformed("the report is not a JSON object");
    auto& document = parsed.as_object();
    if (auto problem = check_envelope(document, agent_id, rules, now)) return *problem;

    auto seq = *int_member(document, "seq");
    auto sent_at = *int_member(document, "sent_at");
    // Move-constructed, so that the document keeps its arena (a move assignment into an
    // object of another storage would copy every node).
    return verified_report{.agent_id = std::string(agent_id),
                           .seq = seq,
                           .sent_at = sent_at,
                           .body_sha256 = sha256_hex(body),
                           .document = std::move(document),
                           .prepared = nullptr};
}

}  // namespace muster::collector
