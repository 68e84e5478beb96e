// Package source "flatpak". (stub: not implemented yet)
#include "agent/inventory/software/sources.h"

namespace muster::agent::inventory {

void read_flatpak_packages(const context&, error_list&, std::vector<package>&) {}

}  // namespace muster::agent::inventory
