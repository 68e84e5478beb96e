// The D-Bus client against a real peer: Debian's dbus-daemon, run here as a private session
// bus on a socket in a temporary directory. It has no systemd, so ListUnits must come back as
// a cleanly reported error naming the missing service.
#include "agent/inventory/services_dbus.h"

#include "support/process.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <thread>

using namespace muster::agent::inventory::dbus;

namespace {

using namespace std::chrono_literals;

// A dbus-daemon listening on socket_path until destroyed. The constructor returns once the
// daemon printed its address, which it does after it started listening.
class bus_daemon {
  public:
    explicit bus_daemon(const std::string& socket_path) {
        std::string address = "--address=unix:path=" + socket_path;
        int out[2];
        if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            dup2(out[1], 1);
            execlp("dbus-daemon", "dbus-daemon", "--session", "--nofork", "--print-address",
                   address.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        close(out[1]);
        output_ = out[0];
        char c;
        while (read(output_, &c, 1) == 1 && c != '\n') printed_.push_back(c);
    }
    ~bus_daemon() {
        kill(pid_, SIGTERM);
        waitpid(pid_, nullptr, 0);
        close(output_);
    }
    bus_daemon(const bus_daemon&) = delete;
    bus_daemon& operator=(const bus_daemon&) = delete;
    const std::string& printed_address() const { return printed_; }

  private:
    pid_t pid_ = -1;
    int output_ = -1;
    std::string printed_;
};

auto deadline() {
    return std::chrono::steady_clock::now() + 5s;
}

int listening_socket(const std::string& path) {
    int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) ||
        listen(listener, 4))
        throw std::runtime_error("cannot listen on " + path);
    return listener;
}

// A hostile peer: accepts one connection, sends `script` whatever the client says, then
// reads until the client hangs up.
class scripted_peer {
  public:
    scripted_peer(const std::string& path, std::string script)
        : listener_(listening_socket(path)), script_(std::move(script)) {
        thread_ = std::thread([this] {
            int peer = accept(listener_, nullptr, nullptr);
            if (peer < 0) return;
            (void)!write(peer, script_.data(), script_.size());
            char sink[4096];
            while (read(peer, sink, sizeof sink) > 0) {
            }
            close(peer);
        });
    }
    ~scripted_peer() {
        thread_.join();
        close(listener_);
    }
    scripted_peer(const scripted_peer&) = delete;
    scripted_peer& operator=(const scripted_peer&) = delete;

  private:
    int listener_;
    std::string script_;
    std::thread thread_;
};

}  // namespace

TEST_CASE("dbus daemon: authenticate, Hello, and ListNames through our own marshalling") {
    muster::test::temp_dir dir;
    std::string socket = dir.path() + "/bus";
    bus_daemon daemon(socket);
    REQUIRE(daemon.printed_address().starts_with("unix:path=" + socket));

    auto bus = connection::open(socket, deadline());
    INFO((bus ? std::string() : bus.reason()));
    REQUIRE(bus);
    CHECK(bus->unique_name().starts_with(":1."));

    auto reply = bus->call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                           "ListNames");
    REQUIRE(reply);
    REQUIRE(reply->type == static_cast<std::uint8_t>(message_type::method_return));
    auto names = parse_string_array(*reply);
    REQUIRE(names);
    auto has = [&](const std::string& name) {
        return std::find(names->begin(), names->end(), name) != names->end();
    };
    CHECK(has("org.freedesktop.DBus"));
    CHECK(has(bus->unique_name()));

    // A second call on the same connection still finds its own reply.
    auto again =
        bus->call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId");
    REQUIRE(again);
    CHECK(again->type == static_cast<std::uint8_t>(message_type::method_return));
    CHECK(again->signature == "s");
}

TEST_CASE("dbus daemon: ListUnits on a bus without systemd is the bus's own error") {
    muster::test::temp_dir dir;
    std::string socket = dir.path() + "/bus";
    bus_daemon daemon(socket);
    auto units = list_units(socket, 5000ms);
    REQUIRE(!units);
    INFO(units.reason());
    // Not ServiceUnknown: the call is flagged NO_AUTO_START, so the bus does not try to
    // activate systemd (Debian ships an activation file for it) and says no one owns the name.
    CHECK(units.reason() ==
          "org.freedesktop.DBus.Error.NameHasNoOwner: Name \"org.freedesktop.systemd1\" does not "
          "exist");
}

TEST_CASE("dbus daemon: no socket is a connect error") {
    muster::test::temp_dir dir;
    auto units = list_units(dir.path() + "/none", 5000ms);
    REQUIRE(!units);
    CHECK(units.reason() == "connect: No such file or directory");
}

TEST_CASE("dbus daemon: a peer that never answers ends at the deadline") {
    muster::test::temp_dir dir;
    std::string socket = dir.path() + "/silent";
    int listener = listening_socket(socket);
    auto units = list_units(socket, 100ms);  // connects through the backlog, never accepted
    close(listener);
    REQUIRE(!units);
    CHECK(units.reason() == "timed out talking to the bus");
}

TEST_CASE("dbus daemon: a peer that refuses authentication") {
    muster::test::temp_dir dir;
    std::string socket = dir.path() + "/refuses";
    outcome<std::vector<unit_row>> units = failure{};
    {
        scripted_peer peer(socket, "REJECTED DBUS_COOKIE_SHA1\r\n");
        units = list_units(socket, 5000ms);
    }
    REQUIRE(!units);
    CHECK(units.reason() == "the bus refused authentication: REJECTED DBUS_COOKIE_SHA1");
}

TEST_CASE("dbus daemon: a peer that answers with garbage after authentication") {
    muster::test::temp_dir dir;
    std::string socket = dir.path() + "/garbage";
    outcome<std::vector<unit_row>> units = failure{};
    {
        scripted_peer peer(socket, "OK 0123456789abcdef\r\nX garbage that is no message\n");
        units = list_units(socket, 5000ms);
    }
    REQUIRE(!units);
    CHECK(units.reason() == "corrupt at byte 0: unknown endianness flag");
}
