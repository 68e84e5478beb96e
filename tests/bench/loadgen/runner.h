#pragma once
// Runs the phases of a load test: enroll, full, delta, churn. Each phase's requests are built
// before its clock starts (so the load generator's own gzip and signing do not compete with
// the collector for the CPU while it is measured), then C coroutines, each with its own
// keep-alive connection and its own share of the agents, send them: an agent's reports go
// out in seq order, one at a time, round by round across the fleet.
//
// Error policy: a failed request is counted by kind in the phase's figures and the run goes
// on; 429/503 are retried after Retry-After, network failures a few times. When the
// collector cannot be reached any more the run stops (the end of an --until-killed run).
// Exceptions (a bad CA file, OpenSSL failures) end the run and reach main.
#include "tests/bench/loadgen/options.h"
#include "tests/bench/loadgen/stats.h"

namespace muster::loadgen {

struct run_outcome {
    run_summary summary;
    bool collector_went_away = false;
};

run_outcome run_load(const options& opts);

}  // namespace muster::loadgen
