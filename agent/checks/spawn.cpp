#include "agent/checks/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace muster::agent::checks {
namespace {

using clock = std::chrono::steady_clock;

// Closes its descriptors; the spawn's file actions and attributes likewise.
struct pipe_pair {
    int fd[2] = {-1, -1};
    ~pipe_pair() {
        for (int f : fd)
            if (f >= 0) ::close(f);
    }
    void close_end(int i) {
        if (fd[i] >= 0) ::close(fd[i]);
        fd[i] = -1;
    }
};

struct spawn_setup {
    posix_spawn_file_actions_t actions{};
    posix_spawnattr_t attributes{};
    spawn_setup() {
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attributes);
    }
    ~spawn_setup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attributes);
    }
    spawn_setup(const spawn_setup&) = delete;
    spawn_setup& operator=(const spawn_setup&) = delete;
};

// The child starts with no blocked signals and default handlers: the daemon
// blocks SIGTERM and friends to take them synchronously, and a plugin must not
// inherit that.
void configure(spawn_setup& s, int out, int err) {
    posix_spawn_file_actions_addopen(&s.actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&s.actions, out, 1);
    posix_spawn_file_actions_adddup2(&s.actions, err, 2);
    posix_spawn_file_actions_addclosefrom_np(&s.actions, 3);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM})
        sigaddset(&defaults, sig);
    posix_spawnattr_setsigmask(&s.attributes, &none);
    posix_spawnattr_setsigdefault(&s.attributes, &defaults);
    posix_spawnattr_setpgroup(&s.attributes, 0);
    posix_spawnattr_setflags(
        &s.attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

// Appends what is readable now to out (capped); false at end of file or error.
bool drain(int fd, std::string& out) {
    char buffer[8192];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n > 0) {
            auto room = max_child_output - std::min(out.size(), max_child_output);
            out.append(buffer, std::min(static_cast<std::size_t>(n), room));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

// True once the child has exited; it stays a zombie (WNOWAIT), so that its pid,
// and so its process group id, cannot be reused before the group is killed.
bool has_exited(pid_t pid) {
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
        return errno == ECHILD;
    return info.si_pid == pid;
}

void kill_group_and_reap(pid_t pid, child_result& result) {
    ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (result.how != child_result::ending::exited) return;  // timed out or cancelled
    if (WIFEXITED(status)) {
        result.code = WEXITSTATUS(status);
    } else {
        result.how = child_result::ending::signaled;
        result.code = WTERMSIG(status);
    }
}

}  // namespace

child_result run_child(const std::vector<std::string>& argv, const run_context& ctx) {
    child_result result;
    pipe_pair out, err;
    if (::pipe2(out.fd, O_CLOEXEC | O_NONBLOCK) != 0 ||
        ::pipe2(err.fd, O_CLOEXEC | O_NONBLOCK) != 0) {
        result.error = std::string("cannot make a pipe: ") + std::strerror(errno);
        return result;
    }
    spawn_setup setup;
    configure(setup, out.fd[1], err.fd[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    int spawn_error =
        posix_spawn(&pid, args[0], &setup.actions, &setup.attributes, args.data(), environ);
    if (spawn_error != 0) {
        result.error = "cannot run " + argv[0] + ": " + std::strerror(spawn_error);
        return result;
    }
    out.close_end(1);
    err.close_end(1);

    bool out_open = true, err_open = true;
    result.how = child_result::ending::exited;
    for (;;) {
        if (clock::now() >= ctx.deadline) {
            result.how = child_result::ending::timed_out;
            break;
        }
        if (ctx.should_stop()) {
            result.how = child_result::ending::cancelled;
            break;
        }
        if (has_exited(pid)) {
            // Whatever the program wrote before it exited is in the pipes now.
            if (out_open) drain(out.fd[0], result.out);
            if (err_open) drain(err.fd[0], result.err);
            break;
        }
        pollfd fds[2] = {{out_open ? out.fd[0] : -1, POLLIN, 0},
                         {err_open ? err.fd[0] : -1, POLLIN, 0}};
        // Short waits: the child's exit is noticed by polling, not by a signal.
        ::poll(fds, 2, 20);
        if (out_open && fds[0].revents) out_open = drain(out.fd[0], result.out);
        if (err_open && fds[1].revents) err_open = drain(err.fd[0], result.err);
    }
    kill_group_and_reap(pid, result);
    return result;
}

}  // namespace muster::agent::checks
