#include "agent/wire/report.h"

#include "common/gzip.h"
#include "common/inventory_state.h"

namespace muster::agent::wire {

built_report build_report(const report_input& in) {
    bool full = in.base_state == nullptr;
    built_report out;
    report_entry& e = out.entry;
    e.seq = in.seq;
    e.kind = full ? "full" : "delta";
    e.base_seq = full ? 0 : in.base_seq;
    e.state_hash = state_hash(in.state);

    boost::json::object body{
        {"protocol", protocol_version}, {"agent_id", in.agent_id}, {"seq", in.seq},
        {"sent_at", in.sent_at},        {"kind", e.kind},          {"base_seq", e.base_seq},
        {"state_hash", e.state_hash}};
    if (full)
        body["inventory"] = in.state;
    else
        body["changes"] = compute_changes(*in.base_state, in.state);
    if (in.checks) body["checks"] = *in.checks;
    if (in.expected_interval) body["expected_interval"] = *in.expected_interval;

    out.json = boost::json::serialize(body);
    e.body = gzip_compress(out.json, 9);
    e.signature = in.key->sign(e.body);
    return out;
}

}  // namespace muster::agent::wire
