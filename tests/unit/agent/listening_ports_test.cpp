#include "agent/inventory/collectors.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace muster::agent::inventory;

namespace {
boost::json::object port(std::string_view protocol, std::string_view address, int number,
                         boost::json::value pid, boost::json::value process) {
    bool v6 = address.find(':') != std::string_view::npos;
    return {{"protocol", protocol}, {"family", v6 ? "inet6" : "inet"},
            {"address", address},   {"port", number},
            {"pid", pid},           {"process", process}};
}

// A socket owned by this test, closed on scope exit.
class owned_socket {
  public:
    explicit owned_socket(int type) : fd_(::socket(AF_INET, type, 0)) {}
    ~owned_socket() {
        if (fd_ >= 0) ::close(fd_);
    }
    owned_socket(const owned_socket&) = delete;
    owned_socket& operator=(const owned_socket&) = delete;
    int fd() const { return fd_; }
    // Binds to 127.0.0.1 on an ephemeral port and returns the port.
    int bind_loopback() {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return -1;
        socklen_t length = sizeof address;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
        return ntohs(address.sin_port);
    }

  private:
    int fd_;
};

bool contains(const boost::json::array& ports, const boost::json::object& wanted) {
    for (const auto& p : ports)
        if (p == wanted) return true;
    return false;
}
}  // namespace

TEST_CASE("listening_ports: crafted /proc/net tables of the debian fixture, with owners") {
    error_list errors;
    auto ports =
        collect_listening_ports(context(MUSTER_FIXTURES "/roots/debian"), errors).as_array();
    CHECK(errors.entries().empty());
    CHECK(ports == boost::json::array{
                       port("tcp", "0.0.0.0", 22, 612, "sshd"),
                       port("tcp", "::", 22, 612, "sshd"),
                       port("tcp", "2001:db8::10", 443, nullptr, nullptr),
                       port("tcp", "127.0.0.1", 5432, 845, "postgres"),
                       port("udp", "127.0.0.53", 53, 901, "systemd-resolve"),
                   });
}

TEST_CASE("listening_ports: a corrupt line is one error, the lines before it still count") {
    muster::test::temp_dir root;
    std::filesystem::create_directories(root.path() + "/proc/net");
    std::ofstream(root.path() + "/proc/net/tcp")
        << "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
           "timeout inode\n"
           "   0: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 "
           "111 1\n"
           "   1: 0100007F:ZZZZ 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 "
           "112 1\n"
           "   2: 0100007F:0051 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 "
           "113 1\n";
    std::ofstream(root.path() + "/proc/net/udp") << "header only\n";
    error_list errors;
    auto ports = collect_listening_ports(context(root.path()), errors).as_array();
    CHECK(ports == boost::json::array{port("tcp", "127.0.0.1", 80, nullptr, nullptr)});
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries()[0].path == "/proc/net/tcp");
    CHECK(errors.entries()[0].reason == "corrupt at line 3");
}

// A busy server's table: its listener after 1.5 MB of connections in TIME_WAIT. Read
// whole under the 1 MiB cap of other /proc files, the table was dropped without an error.
TEST_CASE("listening_ports: a listener after megabytes of connections still counts") {
    muster::test::temp_dir root;
    std::filesystem::create_directories(root.path() + "/proc/net");
    std::ofstream table(root.path() + "/proc/net/tcp");
    table << "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
             "timeout inode\n";
    constexpr int connections = 15'000;
    for (int i = 0; i < connections; ++i) {
        table << "   " << i
              << ": 0100007F:1F90 0100007F:9C40 06 00000000:00000000 03:00000E2E 00000000 0 0 "
                 "0 3 0000000000000000\n";
    }
    table << "   " << connections
          << ": 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 111 1\n";
    table.close();
    REQUIRE(std::filesystem::file_size(root.path() + "/proc/net/tcp") > (1u << 20));
    error_list errors;
    auto ports = collect_listening_ports(context(root.path()), errors).as_array();
    CHECK(ports == boost::json::array{port("tcp", "127.0.0.1", 80, nullptr, nullptr)});
    CHECK(errors.entries().empty());
}

TEST_CASE("listening_ports: a table that cannot be read is one error, not silence") {
    muster::test::temp_dir root;
    std::filesystem::create_directories(root.path() + "/proc/net/tcp");  // a directory
    error_list errors;
    auto ports = collect_listening_ports(context(root.path()), errors).as_array();
    CHECK(ports.empty());
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries()[0].path == "/proc/net/tcp");
}

TEST_CASE("listening_ports: nothing to read is an empty list") {
    error_list errors;
    auto ports = collect_listening_ports(context(MUSTER_FIXTURES "/empty-root"), errors);
    CHECK(ports.as_array().empty());
    CHECK(errors.entries().empty());
}

TEST_CASE("listening_ports: this test's own TCP listener and UDP socket, with its pid") {
    owned_socket tcp(SOCK_STREAM);
    owned_socket udp(SOCK_DGRAM);
    int tcp_port = tcp.bind_loopback();
    int udp_port = udp.bind_loopback();
    REQUIRE(tcp_port > 0);
    REQUIRE(udp_port > 0);
    REQUIRE(::listen(tcp.fd(), 1) == 0);

    std::string comm;
    std::getline(std::ifstream("/proc/self/comm"), comm);
    error_list errors;
    auto ports = collect_listening_ports(context("/"), errors).as_array();
    auto pid = static_cast<std::int64_t>(::getpid());
    CHECK(contains(ports, port("tcp", "127.0.0.1", tcp_port, pid, boost::json::value(comm))));
    CHECK(contains(ports, port("udp", "127.0.0.1", udp_port, pid, boost::json::value(comm))));
}
