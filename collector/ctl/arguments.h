#pragma once
// The command line of musterctl: positional words and --options, in any order.
// `--name value` and `--name=value` both work; `--` ends the options.
//
// Error policy: ctl_error with exit_usage naming the option.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace muster::ctl {

struct arguments {
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;  // without the dashes; flags have "true"

    std::optional<std::string> option(const std::string& name) const;
    bool flag(const std::string& name) const { return options.count(name) > 0; }
    // Fails when an option outside `allowed` (plus the global ones) was given.
    void allow_only(const std::set<std::string>& allowed, const std::string& command) const;
    // Fails unless the number of positional words (after the command words) is in range.
    void expect_positional(std::size_t min, std::size_t max, const std::string& usage) const;
};

arguments parse_arguments(const std::vector<std::string>& args);

}  // namespace muster::ctl
