// A minimal D-Bus client; see services_dbus.h. Wire format from the D-Bus specification:
// a 16-byte fixed header (endianness, type, flags, version, body length, serial, length of
// the header-field array), the header fields a(yv), padding to 8, then the body. Every
// value is aligned to its own size (strings and arrays to 4, structs to 8), counted from
// the start of the message; the body starts 8-aligned, so body offsets align the same way.
#include "agent/inventory/services_dbus.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace muster::agent::inventory::dbus {

namespace {

constexpr int max_nesting = 64;  // the specification's limit is 32 per container kind
constexpr std::size_t max_auth_line = 512;
constexpr std::uint8_t no_auto_start = 0x2;  // header flag

// Header field codes.
constexpr std::uint8_t field_path = 1;
constexpr std::uint8_t field_interface = 2;
constexpr std::uint8_t field_member = 3;
constexpr std::uint8_t field_error_name = 4;
constexpr std::uint8_t field_reply_serial = 5;
constexpr std::uint8_t field_destination = 6;
constexpr std::uint8_t field_signature = 8;

std::size_t round_up(std::size_t n, std::size_t to) {
    return (n + to - 1) / to * to;
}

// The alignment of a type from its first signature character.
std::size_t alignment_of(char code) {
    switch (code) {
        case 'n':
        case 'q':
            return 2;
        case 'b':
        case 'i':
        case 'u':
        case 'h':
        case 's':
        case 'o':
        case 'a':
            return 4;
        case 'x':
        case 't':
        case 'd':
        case '(':
        case '{':
            return 8;
        default:
            return 1;
    }
}

// The length of the single complete type at the start of sig; 0 when there is none.
std::size_t single_type_length(std::string_view sig, int depth = 0) {
    if (sig.empty() || depth > max_nesting) return 0;
    switch (sig[0]) {
        case 'y':
        case 'b':
        case 'n':
        case 'q':
        case 'i':
        case 'u':
        case 'x':
        case 't':
        case 'd':
        case 'h':
        case 's':
        case 'o':
        case 'g':
        case 'v':
            return 1;
        case 'a': {
            auto element = single_type_length(sig.substr(1), depth + 1);
            return element ? element + 1 : 0;
        }
        case '(':
        case '{': {
            char close = sig[0] == '(' ? ')' : '}';
            std::size_t i = 1;
            while (i < sig.size() && sig[i] != close) {
                auto member = single_type_length(sig.substr(i), depth + 1);
                if (!member) return 0;
                i += member;
            }
            return i < sig.size() && i > 1 ? i + 1 : 0;
        }
        default:
            return 0;
    }
}

// Reads values from a byte range. The first failure is kept ("corrupt at byte N: ..."),
// later reads return empty values, so parsers can read a whole record and check once.
class reader {
  public:
    reader(std::string_view data, bool big_endian, std::size_t pos = 0)
        : data_(data), big_endian_(big_endian), pos_(pos) {}

    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }
    std::size_t pos() const { return pos_; }
    bool at_end() const { return pos_ >= data_.size(); }

    void fail(std::string_view what) { fail_at(pos_, what); }
    void fail_at(std::size_t at, std::string_view what) {
        if (ok()) error_ = "corrupt at byte " + std::to_string(at) + ": " + std::string(what);
    }

    std::string_view take(std::size_t n) {
        if (!ok()) return {};
        if (n > data_.size() - pos_) {
            fail("value runs past the end");
            return {};
        }
        auto bytes = data_.substr(pos_, n);
        pos_ += n;
        return bytes;
    }

    void align(std::size_t n) {
        auto start = pos_;
        auto padding = take(round_up(pos_, n) - pos_);
        for (std::size_t i = 0; i < padding.size(); ++i)
            if (padding[i] != '\0') return fail_at(start + i, "non-zero padding");
    }

    std::uint8_t byte() {
        auto b = take(1);
        return b.empty() ? 0 : static_cast<std::uint8_t>(b[0]);
    }

    std::uint32_t u32() {
        align(4);
        auto b = take(4);
        if (b.size() != 4) return 0;
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            auto octet = static_cast<std::uint8_t>(b[big_endian_ ? i : 3 - i]);
            v = (v << 8) | octet;
        }
        return v;
    }

    // A string or object path: uint32 length, the bytes, a terminating NUL.
    std::string_view string() {
        auto length = u32();
        return terminated(length);
    }

    // A signature: one byte of length, the bytes, a terminating NUL.
    std::string_view signature() {
        auto length = byte();
        return terminated(length);
    }

    // Skips one value of the single complete type `type`.
    void skip(std::string_view type, int depth = 0) {
        if (depth > max_nesting) return fail("values nested too deeply");
        switch (type[0]) {
            case 'a': {
                auto length = u32();
                align(alignment_of(type[1]));
                take(length);
                return;
            }
            case '(':
            case '{':
                align(8);
                for (std::size_t i = 1; ok() && type[i] != ')' && type[i] != '}';) {
                    auto member = single_type_length(type.substr(i));
                    skip(type.substr(i, member), depth + 1);
                    i += member;
                }
                return;
            case 'v': {
                auto inner = signature();
                if (ok() && (inner.empty() || single_type_length(inner) != inner.size()))
                    return fail("variant with an invalid signature");
                if (ok()) skip(inner, depth + 1);
                return;
            }
            case 's':
            case 'o':
                string();
                return;
            case 'g':
                signature();
                return;
            default:
                align(alignment_of(type[0]));
                take(type[0] == 'y' ? 1 : alignment_of(type[0]));
        }
    }

  private:
    std::string_view terminated(std::size_t length) {
        auto start = pos_;
        auto text = take(length);
        auto nul = take(1);
        if (!ok()) return {};
        if (nul[0] != '\0') fail_at(start + length, "string without its terminating NUL");
        if (auto at = text.find('\0'); at != std::string_view::npos)
            fail_at(start + at, "string with an embedded NUL");
        return ok() ? text : std::string_view{};
    }

    std::string_view data_;
    bool big_endian_;
    std::size_t pos_;
    std::string error_;
};

// Builds a little-endian message with natural alignment.
class writer {
  public:
    void align(std::size_t n) { out_.resize(round_up(out_.size(), n), '\0'); }
    void byte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }
    void u32(std::uint32_t v) {
        align(4);
        for (int i = 0; i < 4; ++i) byte(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    void string(std::string_view s) {
        u32(static_cast<std::uint32_t>(s.size()));
        out_.append(s);
        byte(0);
    }
    void signature(std::string_view s) {
        byte(static_cast<std::uint8_t>(s.size()));
        out_.append(s);
        byte(0);
    }
    void patch_u32(std::size_t at, std::uint32_t v) {
        for (int i = 0; i < 4; ++i) out_[at + i] = static_cast<char>(v >> (8 * i));
    }
    std::size_t size() const { return out_.size(); }
    std::string take() { return std::move(out_); }

  private:
    std::string out_;
};

// Reads one header field into m; unknown fields are skipped, as the specification asks.
void read_header_field(reader& r, message& m) {
    r.align(8);
    auto code = r.byte();
    std::string_view type = r.signature();
    if (!r.ok()) return;
    auto expect = [&](std::string_view wanted) {
        if (type != wanted)
            r.fail("header field " + std::to_string(code) + " has type '" + std::string(type) +
                   "'");
        return r.ok();
    };
    switch (code) {
        case field_error_name:
            if (expect("s")) m.error_name = r.string();
            return;
        case field_reply_serial:
            if (expect("u")) m.reply_serial = r.u32();
            return;
        case field_signature:
            if (expect("g")) m.signature = r.signature();
            return;
        default:
            if (type.empty() || single_type_length(type) != type.size())
                return r.fail("header field with an invalid type");
            r.skip(type);
    }
}

// The element count and end of an array at the reader's position, aligned for its
// elements; the end is checked against the data.
std::size_t array_end(reader& r, std::size_t data_size, std::size_t element_alignment) {
    auto length = r.u32();
    r.align(element_alignment);
    if (r.ok() && length > data_size - r.pos()) r.fail("array runs past the end");
    return r.ok() ? r.pos() + length : 0;
}

failure errno_failure(std::string_view what, int err) {
    return {std::string(what) + ": " + std::strerror(err)};
}

}  // namespace

outcome<std::size_t> message_size(std::string_view prefix) {
    if (prefix.size() < 16) return failure{"message shorter than its 16-byte header"};
    if (prefix[0] != 'l' && prefix[0] != 'B')
        return failure{"corrupt at byte 0: unknown endianness flag"};
    if (prefix[3] != 1) return failure{"corrupt at byte 3: unknown protocol version"};
    reader r(prefix.substr(0, 16), prefix[0] == 'B', 4);
    std::size_t body_length = r.u32();
    r.u32();
    std::size_t fields_length = r.u32();
    if (fields_length > max_message_size || body_length > max_message_size)
        return failure{"message larger than " + std::to_string(max_message_size) + " bytes"};
    auto size = round_up(16 + fields_length, 8) + body_length;
    if (size > max_message_size)
        return failure{"message larger than " + std::to_string(max_message_size) + " bytes"};
    return size;
}

outcome<message> parse_message(std::string_view bytes) {
    auto size = message_size(bytes);
    if (!size) return failure{size.reason()};
    if (*size != bytes.size())
        return failure{"message length " + std::to_string(bytes.size()) + " differs from the " +
                       std::to_string(*size) + " its header gives"};
    message m;
    m.big_endian = bytes[0] == 'B';
    m.type = static_cast<std::uint8_t>(bytes[1]);
    reader fixed(bytes.substr(0, 16), m.big_endian, 8);
    m.serial = fixed.u32();
    std::size_t fields_end = 16 + fixed.u32();
    if (m.serial == 0) return failure{"corrupt at byte 8: serial 0"};

    // The reader sees only the header, so no field can reach into the body.
    reader header(bytes.substr(0, round_up(fields_end, 8)), m.big_endian, 16);
    while (header.ok() && header.pos() < fields_end) read_header_field(header, m);
    if (header.ok() && header.pos() != fields_end)
        header.fail("header field runs past the header-field array");
    header.align(8);
    if (!header.ok()) return failure{header.error()};
    m.body = bytes.substr(header.pos());
    if (!m.body.empty() && m.signature.empty())
        return failure{"message has a body but no signature"};
    return m;
}

outcome<std::vector<unit_row>> parse_list_units(const message& reply) {
    constexpr std::string_view expected = "a(ssssssouso)";
    if (reply.signature != expected)
        return failure{"ListUnits reply has signature '" + reply.signature + "', expected '" +
                       std::string(expected) + "'"};
    std::string_view body = reply.body;
    reader r(body, reply.big_endian);
    auto end = array_end(r, body.size(), 8);
    std::vector<unit_row> units;
    // Elements are read within the array's own bytes.
    reader items(body.substr(0, end), reply.big_endian, r.pos());
    while (r.ok() && items.ok() && !items.at_end()) {
        items.align(8);
        unit_row u;
        u.name = items.string();
        u.description = items.string();
        u.load_state = items.string();
        u.active_state = items.string();
        u.sub_state = items.string();
        u.following = items.string();
        u.object_path = items.string();
        u.job_id = items.u32();
        u.job_type = items.string();
        u.job_path = items.string();
        if (items.ok()) units.push_back(std::move(u));
    }
    if (!r.ok()) return failure{r.error()};
    if (!items.ok()) return failure{items.error()};
    if (end != body.size())
        return failure{"corrupt at byte " + std::to_string(end) + ": bytes after the array"};
    return units;
}

outcome<std::vector<std::string>> parse_string_array(const message& reply) {
    if (reply.signature != "as")
        return failure{"reply has signature '" + reply.signature + "', expected 'as'"};
    std::string_view body = reply.body;
    reader r(body, reply.big_endian);
    auto end = array_end(r, body.size(), 4);
    reader items(body.substr(0, end), reply.big_endian, r.pos());
    std::vector<std::string> names;
    while (r.ok() && items.ok() && !items.at_end()) {
        std::string name(items.string());
        if (items.ok()) names.push_back(std::move(name));
    }
    if (!r.ok()) return failure{r.error()};
    if (!items.ok()) return failure{items.error()};
    if (end != body.size())
        return failure{"corrupt at byte " + std::to_string(end) + ": bytes after the array"};
    return names;
}

service_states merged_states(std::string_view file_load_state, const unit_row* loaded) {
    if (loaded) return {loaded->load_state, loaded->active_state, loaded->sub_state};
    return {std::string(file_load_state), "inactive", "dead"};
}

std::string describe_error(const message& reply) {
    std::string name = reply.error_name.empty() ? "unnamed D-Bus error" : reply.error_name;
    if (reply.signature.empty() || reply.signature[0] != 's') return name;
    reader r(reply.body, reply.big_endian);
    auto text = r.string();
    return r.ok() && !text.empty() ? name + ": " + std::string(text) : name;
}

std::string method_call(std::uint32_t serial, std::string_view destination, std::string_view path,
                        std::string_view interface, std::string_view member) {
    writer w;
    w.byte('l');
    w.byte(static_cast<std::uint8_t>(message_type::method_call));
    w.byte(no_auto_start);  // an inventory must never start a service by asking it
    w.byte(1);              // protocol version
    w.u32(0);               // body length
    w.u32(serial);
    w.u32(0);  // header-field array length, patched below
    auto field = [&](std::uint8_t code, std::string_view type, std::string_view value) {
        w.align(8);
        w.byte(code);
        w.signature(type);
        w.string(value);
    };
    field(field_path, "o", path);
    field(field_interface, "s", interface);
    field(field_member, "s", member);
    field(field_destination, "s", destination);
    w.patch_u32(12, static_cast<std::uint32_t>(w.size() - 16));
    w.align(8);
    return w.take();
}

// ---------------------------------------------------------------------------------------
// Transport

connection::connection(int fd, std::chrono::steady_clock::time_point deadline)
    : fd_(fd), deadline_(deadline) {}

connection::connection(connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      deadline_(other.deadline_),
      buffer_(std::move(other.buffer_)),
      next_serial_(other.next_serial_),
      unique_name_(std::move(other.unique_name_)) {}

connection& connection::operator=(connection&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        deadline_ = other.deadline_;
        buffer_ = std::move(other.buffer_);
        next_serial_ = other.next_serial_;
        unique_name_ = std::move(other.unique_name_);
    }
    return *this;
}

connection::~connection() {
    if (fd_ >= 0) ::close(fd_);
}

namespace {

// Milliseconds left before the deadline, for poll; 0 when it has passed.
int remaining_ms(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits until fd is ready for events; false (with why) on timeout or error.
bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline, failure& why) {
    for (;;) {
        int left = remaining_ms(deadline);
        if (left == 0) {
            why = {"timed out talking to the bus"};
            return false;
        }
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, left);
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) {
            why = errno_failure("poll", errno);
            return false;
        }
    }
}

}  // namespace

bool connection::send_all(std::string_view bytes, failure& why) {
    while (!bytes.empty()) {
        if (!wait_for(fd_, POLLOUT, deadline_, why)) return false;
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            why = errno_failure("send", errno);
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Reads until the buffer holds at least wanted bytes.
bool connection::fill(std::size_t wanted, failure& why) {
    char chunk[16384];
    while (buffer_.size() < wanted) {
        if (!wait_for(fd_, POLLIN, deadline_, why)) return false;
        ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n == 0) {
            why = {"the bus closed the connection"};
            return false;
        }
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            why = errno_failure("recv", errno);
            return false;
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
    }
    return true;
}

outcome<std::string> connection::read_line() {
    failure why;
    for (;;) {
        auto end = buffer_.find("\r\n");
        if (end != std::string::npos) {
            std::string line = buffer_.substr(0, end);
            buffer_.erase(0, end + 2);
            return line;
        }
        if (buffer_.size() > max_auth_line) return failure{"authentication line too long"};
        if (!fill(buffer_.size() + 1, why)) return why;
    }
}

outcome<message> connection::read_message() {
    failure why;
    if (!fill(16, why)) return why;
    auto size = message_size(buffer_);
    if (!size) return failure{size.reason()};
    if (!fill(*size, why)) return why;
    auto parsed = parse_message(std::string_view(buffer_).substr(0, *size));
    buffer_.erase(0, *size);
    return parsed;
}

bool connection::authenticate(failure& why) {
    // EXTERNAL: the server checks our uid from the socket's credentials; we send that uid's
    // decimal digits, hex-encoded.
    std::string uid = std::to_string(::getuid());
    std::string hex;
    constexpr std::string_view digits = "0123456789abcdef";
    for (unsigned char c : uid) {
        hex.push_back(digits[c >> 4]);
        hex.push_back(digits[c & 0xf]);
    }
    if (!send_all(std::string_view("\0", 1), why)) return false;
    if (!send_all("AUTH EXTERNAL " + hex + "\r\n", why)) return false;
    auto line = read_line();
    if (!line) {
        why = {line.reason()};
        return false;
    }
    if (!line->starts_with("OK ")) {
        why = {"the bus refused authentication: " + line->substr(0, 100)};
        return false;
    }
    return send_all("BEGIN\r\n", why);
}

outcome<connection> connection::open(const std::string& socket_path,
                                     std::chrono::steady_clock::time_point deadline) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof address.sun_path) return failure{"socket path too long"};
    std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);

    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return errno_failure("socket", errno);
    connection bus(fd, deadline);
    failure why;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        if (errno != EINPROGRESS && errno != EAGAIN) return errno_failure("connect", errno);
        if (!wait_for(fd, POLLOUT, deadline, why)) return why;
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) return errno_failure("connect", err);
    }
    if (!bus.authenticate(why)) return why;
    auto hello =
        bus.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello");
    if (!hello) return failure{hello.reason()};
    if (hello->type != static_cast<std::uint8_t>(message_type::method_return))
        return failure{"Hello failed: " + describe_error(*hello)};
    if (hello->signature != "s") return failure{"Hello reply has no bus name"};
    reader r(hello->body, hello->big_endian);
    bus.unique_name_ = r.string();
    if (!r.ok()) return failure{"Hello reply: " + r.error()};
    return bus;
}

outcome<message> connection::call(std::string_view destination, std::string_view path,
                                  std::string_view interface, std::string_view member) {
    auto serial = next_serial_++;
    failure why;
    if (!send_all(method_call(serial, destination, path, interface, member), why)) return why;
    for (;;) {
        auto reply = read_message();
        if (!reply) return reply;
        bool answer = reply->type == static_cast<std::uint8_t>(message_type::method_return) ||
                      reply->type == static_cast<std::uint8_t>(message_type::error);
        if (answer && reply->reply_serial == serial) return reply;
    }
}

outcome<std::vector<unit_row>> list_units(const std::string& socket_path,
                                          std::chrono::milliseconds timeout) {
    auto bus = connection::open(socket_path, std::chrono::steady_clock::now() + timeout);
    if (!bus) return failure{bus.reason()};
    auto reply = bus->call("org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                           "org.freedesktop.systemd1.Manager", "ListUnits");
    if (!reply) return failure{reply.reason()};
    if (reply->type == static_cast<std::uint8_t>(message_type::error))
        return failure{describe_error(*reply)};
    return parse_list_units(*reply);
}

}  // namespace muster::agent::inventory::dbus
