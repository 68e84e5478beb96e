#pragma once
// musterctl's error policy: every failure is a ctl_error carrying the exit code it ends the
// program with and a one-line message; main() prints "musterctl: <message>" on stderr and
// exits with the code. Nothing else is caught below main().
#include <stdexcept>
#include <string>

namespace muster::ctl {

// docs/musterctl.md, "Exit codes".
enum exit_code : int {
    exit_ok = 0,
    exit_error = 1,         // any other failure; the message is the API's error message
    exit_usage = 2,         // bad command line or configuration
    exit_unreachable = 3,   // cannot connect, TLS failure, no answer in time
    exit_unauthorized = 4,  // 401
    exit_forbidden = 5,     // 403
    exit_not_found = 6,     // 404
};

class ctl_error : public std::runtime_error {
  public:
    ctl_error(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
    int code() const { return code_; }

  private:
    int code_;
};

[[noreturn]] inline void usage_error(const std::string& message) {
    throw ctl_error(exit_usage, message);
}

}  // namespace muster::ctl
