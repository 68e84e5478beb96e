#pragma once
// `muster-collector serve`: wires configuration, store, ingest writer, API and transport, and
// runs until SIGTERM or SIGINT. Returns the process exit code.
#include "collector/config.h"

namespace muster::collector {

int serve(const collector_config& config);

}  // namespace muster::collector
