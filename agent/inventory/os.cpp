// Section "os". (stub: not implemented yet)
#include "agent/inventory/collectors.h"

namespace muster::agent::inventory {

boost::json::value collect_os(const context&, error_list&) { return nullptr; }

}  // namespace muster::agent::inventory
