#pragma once
// Runs real programs from tests (the oracles: dpkg, rpm, ip, findmnt, and our own binaries).
#include <string>
#include <vector>

namespace muster::test {

struct process_result {
    int exit_code = -1;  // -1 when killed by a signal or not started
    std::string out;
    std::string err;
};

// Runs argv (no shell), optionally feeding stdin_text, and collects stdout and stderr.
process_result run(const std::vector<std::string>& argv, const std::string& stdin_text = "");

// Runs a command line through /bin/sh -c; for oracles that need a pipe.
process_result run_shell(const std::string& command);

// A fresh temporary directory, removed when the object goes out of scope.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace muster::test
