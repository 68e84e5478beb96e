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

// A program running in the background for the length of a test (the real collector, the
// agent daemon). stdout and stderr go to log_file. The destructor kills it with SIGKILL if it
// is still running, so a failing test never leaves a server behind.
class background_process {
public:
    background_process(const std::vector<std::string>& argv, const std::string& log_file);
    ~background_process();
    background_process(const background_process&) = delete;
    background_process& operator=(const background_process&) = delete;

    int pid() const { return pid_; }
    void signal(int signal_number);
    // Waits for the exit (bounded by timeout_ms as a hang guard); returns the exit code, -1
    // when killed by a signal, -2 when still running after the timeout.
    int wait(int timeout_ms = 30000);

private:
    int pid_ = -1;
    bool reaped_ = false;
};

// Waits until connecting to 127.0.0.1:port succeeds (bounded); false when it never does.
bool wait_for_port(int port, int timeout_ms = 20000);

// A loopback TCP port that was free a moment ago.
int free_loopback_port();

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
