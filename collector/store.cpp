#include "collector/store.h"

namespace muster::collector {

std::string_view to_string(agent_status status) {
    switch (status) {
        case agent_status::pending:
            return "pending";
        case agent_status::active:
            return "active";
        case agent_status::revoked:
            return "revoked";
    }
    return "unknown";
}

std::optional<agent_status> agent_status_from_string(std::string_view text) {
    if (text == "pending") return agent_status::pending;
    if (text == "active") return agent_status::active;
    if (text == "revoked") return agent_status::revoked;
    return std::nullopt;
}

std::string_view to_string(ingest_status status) {
    switch (status) {
        case ingest_status::ok:
            return "ok";
        case ingest_status::resync:
            return "resync";
        case ingest_status::replay:
            return "replay";
        case ingest_status::unknown_agent:
            return "unknown_agent";
        case ingest_status::revoked:
            return "revoked";
        case ingest_status::pending:
            return "pending";
        case ingest_status::malformed:
            return "malformed";
    }
    return "unknown";
}

}  // namespace muster::collector
