#pragma once
// The command line of muster-loadgen.
//
// Error policy: parse_options returns the options or throws usage_error naming the option
// and what is wrong with it; main turns that into exit code 2.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace muster::loadgen {

class usage_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct options {
    std::string url;
    std::string ca_file;
    std::string token;
    std::size_t agents = 100;
    std::size_t concurrency = 32;
    std::size_t threads = 2;
    std::vector<std::string> phases{"full", "delta", "churn"};
    std::size_t deltas_per_agent = 5;
    std::size_t packages = 900;
    std::uint64_t seed = 1;
    int gzip_level = 9;
    int timeout_seconds = 60;
    std::string json_file;
    std::string acked_log;
    std::string db_file;
    std::optional<int> collector_pid;
    bool until_killed = false;
    double duration_seconds = 0;  // 0: no limit
    bool quiet = false;
    bool fresh_connections = false;  // Connection: close on every request
    double rate = 0;                 // reports offered per second (open loop); 0: as fast as acked
    double delta_rate = 0;           // the same for the delta and churn phases; 0: rate
};

extern const char* const usage_text;

// argv without the program name. Returns nullopt for --help.
std::optional<options> parse_options(const std::vector<std::string>& args);

}  // namespace muster::loadgen
