#pragma once
// Synthetic host inventories for the load generator: documents shaped like `muster-agent
// inventory` output (docs/inventory.schema.json), different on every host (hostname, serial,
// product UUID, machine-id, MACs, addresses, a share of the packages and their versions) and
// the same for the same (seed, host, version), so a host's state never has to be kept in
// memory: it is rebuilt when needed.
//
// Error policy: pure functions of their arguments; nothing here fails.
#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace muster::loadgen {

struct fleet_shape {
    std::uint64_t seed = 1;
    std::size_t packages = 900;  // packages per host
};

// The names and base versions every host draws its packages from.
class package_universe {
  public:
    explicit package_universe(const fleet_shape& shape);

    struct package {
        std::string name;
        std::string version;
        std::string arch;
        std::int64_t size_bytes = 0;
    };
    const std::vector<package>& all() const { return packages_; }
    std::size_t common_count() const { return common_; }  // every host has these first ones
    const fleet_shape& shape() const { return shape_; }

  private:
    fleet_shape shape_;
    std::vector<package> packages_;
    std::size_t common_ = 0;
};

// The inventory of host number `host` after `churn_rounds` rounds of churn, each of which
// upgraded a few of its packages (churn_upgrades_per_round).
inline constexpr int churn_upgrades_per_round = 3;
boost::json::object host_inventory(const package_universe& universe, std::uint64_t host,
                                   std::uint64_t churn_rounds);

// The identity facts sent at enrollment: hostname, machine_id, product_uuid, serial.
boost::json::object host_facts(const package_universe& universe, std::uint64_t host);

// A generator seeded from several numbers (SplitMix64 over them), for per-host variation.
std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b, std::uint64_t c = 0);

}  // namespace muster::loadgen
