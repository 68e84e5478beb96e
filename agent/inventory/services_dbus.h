#pragma once
// A minimal D-Bus client, written from the D-Bus specification, just large enough to ask
// systemd for its units (org.freedesktop.systemd1.Manager.ListUnits).
//
// Two halves: pure functions from bytes to values (message framing, header fields, the
// ListUnits and string-array reply bodies), unit-tested on hand-built messages; and a thin
// transport (AF_UNIX socket, SASL AUTH EXTERNAL, Hello, one method call at a time) bounded
// by one deadline for the whole exchange.
//
// Error policy: nothing here throws for bad input or I/O. Every function returns an outcome
// that holds either its value or the reason it failed ("corrupt at byte N: ...", "timed out
// ...", or the D-Bus error name of an error reply).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace muster::agent::inventory::dbus {

struct failure {
    std::string reason;
};

// A value, or the reason there is none.
template <class T>
class outcome {
  public:
    outcome(T value) : state_(std::move(value)) {}
    outcome(failure why) : state_(std::move(why)) {}
    explicit operator bool() const { return state_.index() == 0; }
    T& operator*() { return std::get<0>(state_); }
    const T& operator*() const { return std::get<0>(state_); }
    T* operator->() { return &std::get<0>(state_); }
    const T* operator->() const { return &std::get<0>(state_); }
    const std::string& reason() const { return std::get<1>(state_).reason; }

  private:
    std::variant<T, failure> state_;
};

// Message types of the header's second byte.
enum class message_type : std::uint8_t {
    method_call = 1,
    method_return = 2,
    error = 3,
    signal = 4,
};

// Far below the specification's 128 MiB: a ListUnits reply for thousands of units is a few
// MiB, and this bounds what a hostile peer can make us allocate.
constexpr std::size_t max_message_size = 32u << 20;

// One received message, reduced to what this client reads.
struct message {
    bool big_endian = false;
    std::uint8_t type = 0;
    std::uint32_t serial = 0;
    std::uint32_t reply_serial = 0;  // 0 when the header has none
    std::string error_name;
    std::string signature;
    std::string body;
};

// One element of ListUnits' a(ssssssouso).
struct unit_row {
    std::string name;
    std::string description;
    std::string load_state;
    std::string active_state;
    std::string sub_state;
    std::string following;
    std::string object_path;
    std::uint32_t job_id = 0;
    std::string job_type;
    std::string job_path;
};

// The states the services section reports for one unit: the bus is authoritative for a unit
// systemd has loaded (loaded non-null); a unit known only from its file keeps the file's load
// state and is "inactive" / "dead", as systemctl shows it.
struct service_states {
    std::string load_state;
    std::string active_state;
    std::string sub_state;
};
service_states merged_states(std::string_view file_load_state, const unit_row* loaded);

// The whole size of the message that starts with prefix (at least its first 16 bytes).
outcome<std::size_t> message_size(std::string_view prefix);

// Parses exactly one whole message.
outcome<message> parse_message(std::string_view bytes);

// The body of a ListUnits reply, signature a(ssssssouso).
outcome<std::vector<unit_row>> parse_list_units(const message& reply);

// The body of a reply with signature as (such as org.freedesktop.DBus.ListNames).
outcome<std::vector<std::string>> parse_string_array(const message& reply);

// "<error name>: <text>" for an error reply, the text only when its body is one string.
std::string describe_error(const message& reply);

// A little-endian method call without arguments, flagged NO_AUTO_START.
std::string method_call(std::uint32_t serial, std::string_view destination, std::string_view path,
                        std::string_view interface, std::string_view member);

// An authenticated connection to a bus. Every operation shares the deadline given to open().
class connection {
  public:
    // Connects to the socket, authenticates (AUTH EXTERNAL with our uid) and says Hello.
    static outcome<connection> open(const std::string& socket_path,
                                    std::chrono::steady_clock::time_point deadline);

    connection(connection&& other) noexcept;
    connection& operator=(connection&& other) noexcept;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection();

    // Calls a method without arguments and returns its reply: a method return or an error
    // (check message::type). Signals and other traffic in between are skipped.
    outcome<message> call(std::string_view destination, std::string_view path,
                          std::string_view interface, std::string_view member);

    // The name the bus gave us in reply to Hello (":1.42").
    const std::string& unique_name() const { return unique_name_; }

  private:
    connection(int fd, std::chrono::steady_clock::time_point deadline);
    outcome<std::string> read_line();
    outcome<message> read_message();
    bool fill(std::size_t wanted, failure& why);
    bool send_all(std::string_view bytes, failure& why);
    bool authenticate(failure& why);

    int fd_ = -1;
    std::chrono::steady_clock::time_point deadline_;
    std::string buffer_;
    std::uint32_t next_serial_ = 1;
    std::string unique_name_;
};

// systemd's units from the bus at socket_path: connect, authenticate, Hello, ListUnits.
outcome<std::vector<unit_row>> list_units(const std::string& socket_path,
                                          std::chrono::milliseconds timeout);

}  // namespace muster::agent::inventory::dbus
