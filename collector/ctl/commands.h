#pragma once
// musterctl's subcommands (docs/musterctl.md): each parses its own arguments, calls the API
// and prints the answer in the chosen format.
//
// Error policy: ctl_error (collector/ctl/errors.h), turned into a message and an exit code by
// main().
#include <iosfwd>
#include <string>
#include <vector>

namespace muster::ctl {

// Runs the command line (without the program name); returns the exit code. Output goes to
// out, notes (more pages exist, a token shown once) to err.
int run_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// The usage text `musterctl help` prints.
std::string usage_text();

}  // namespace muster::ctl
