// The D-Bus message parser on messages built here by an independent marshaller, following the
// specification's alignment rules, including garbled and hostile variants.
#include "agent/inventory/services_dbus.h"

#include <catch2/catch.hpp>

#include <functional>

using namespace muster::agent::inventory::dbus;

namespace {

// Writes D-Bus values with their alignment padding, in either byte order.
struct marshal {
    bool big = false;
    std::string out;

    void pad(std::size_t n) {
        while (out.size() % n) out.push_back('\0');
    }
    void y(std::uint8_t b) { out.push_back(static_cast<char>(b)); }
    void u(std::uint32_t v) {
        pad(4);
        for (int i = 0; i < 4; ++i) y(static_cast<std::uint8_t>(v >> (8 * (big ? 3 - i : i))));
    }
    void s(std::string_view text) {
        u(static_cast<std::uint32_t>(text.size()));
        out += text;
        y(0);
    }
    void g(std::string_view sig) {
        y(static_cast<std::uint8_t>(sig.size()));
        out += sig;
        y(0);
    }
    // Writes an array whose elements have the given alignment; the length excludes the
    // padding between the length and the first element.
    void array(std::size_t element_alignment, const std::function<void()>& elements) {
        u(0);
        auto length_at = out.size() - 4;
        pad(element_alignment);
        auto start = out.size();
        elements();
        auto length = static_cast<std::uint32_t>(out.size() - start);
        marshal patch{big, {}};
        patch.u(length);
        out.replace(length_at, 4, patch.out);
    }
};

std::string build_message(std::uint8_t type, std::uint32_t serial,
                          const std::function<void(marshal&)>& fields, const std::string& body,
                          bool big = false, std::uint8_t flags = 0) {
    marshal m{big, {}};
    m.y(big ? 'B' : 'l');
    m.y(type);
    m.y(flags);
    m.y(1);
    m.u(static_cast<std::uint32_t>(body.size()));
    m.u(serial);
    m.array(8, [&] { fields(m); });
    m.pad(8);
    return m.out + body;
}

void field_u(marshal& m, std::uint8_t code, std::uint32_t v) {
    m.pad(8);
    m.y(code);
    m.g("u");
    m.u(v);
}
void field_s(marshal& m, std::uint8_t code, char type, std::string_view v) {
    m.pad(8);
    m.y(code);
    m.g(std::string(1, type));
    m.s(v);
}
void field_g(marshal& m, std::uint8_t code, std::string_view v) {
    m.pad(8);
    m.y(code);
    m.g("g");
    m.g(v);
}

struct unit_spec {
    std::string name, load, active, sub;
    std::uint32_t job = 0;
};

std::string list_units_body(const std::vector<unit_spec>& units, bool big = false) {
    marshal b{big, {}};
    b.array(8, [&] {
        for (const auto& unit : units) {
            b.pad(8);
            b.s(unit.name);
            b.s("Description of " + unit.name);
            b.s(unit.load);
            b.s(unit.active);
            b.s(unit.sub);
            b.s("");
            b.s("/org/freedesktop/systemd1/unit/x");
            b.u(unit.job);
            b.s(unit.job ? "start" : "");
            b.s(unit.job ? "/org/freedesktop/systemd1/job/7" : "/");
        }
    });
    return b.out;
}

// A method return to serial 2 with the given body, plus a sender and an unknown header field
// holding a struct, which the parser must skip.
std::string reply(const std::string& signature, const std::string& body, bool big = false) {
    return build_message(
        2, 9,
        [&](marshal& m) {
            field_u(m, 5, 2);
            field_s(m, 7, 's', "org.freedesktop.systemd1");
            m.pad(8);
            m.y(200);  // not a field code of the specification
            m.g("(yas)");
            m.pad(8);
            m.y(1);
            m.array(4, [&] { m.s("ignored"); });
            if (!signature.empty()) field_g(m, 8, signature);
        },
        body, big);
}

const std::vector<unit_spec> two_units = {
    {"ssh.service", "loaded", "active", "running", 0},
    {"backup.service", "loaded", "activating", "start", 42},
};

}  // namespace

TEST_CASE("dbus: a ListUnits reply with two units") {
    auto parsed = parse_message(reply("a(ssssssouso)", list_units_body(two_units)));
    REQUIRE(parsed);
    CHECK(parsed->type == 2);
    CHECK(parsed->serial == 9);
    CHECK(parsed->reply_serial == 2);
    auto units = parse_list_units(*parsed);
    REQUIRE(units);
    REQUIRE(units->size() == 2);
    CHECK((*units)[0].name == "ssh.service");
    CHECK((*units)[0].description == "Description of ssh.service");
    CHECK((*units)[0].active_state == "active");
    CHECK((*units)[0].sub_state == "running");
    CHECK((*units)[0].job_path == "/");
    CHECK((*units)[1].name == "backup.service");
    CHECK((*units)[1].active_state == "activating");
    CHECK((*units)[1].job_id == 42);
    CHECK((*units)[1].job_type == "start");
}

TEST_CASE("dbus: a big-endian reply parses the same") {
    auto parsed = parse_message(reply("a(ssssssouso)", list_units_body(two_units, true), true));
    REQUIRE(parsed);
    CHECK(parsed->big_endian);
    auto units = parse_list_units(*parsed);
    REQUIRE(units);
    REQUIRE(units->size() == 2);
    CHECK((*units)[1].job_id == 42);
    CHECK((*units)[1].sub_state == "start");
}

TEST_CASE("dbus: an empty unit list") {
    auto parsed = parse_message(reply("a(ssssssouso)", list_units_body({})));
    REQUIRE(parsed);
    auto units = parse_list_units(*parsed);
    REQUIRE(units);
    CHECK(units->empty());
}

TEST_CASE("dbus: a message shorter or longer than its header says is refused") {
    auto bytes = reply("a(ssssssouso)", list_units_body(two_units));
    auto shorter = parse_message(std::string_view(bytes).substr(0, bytes.size() - 1));
    REQUIRE(!shorter);
    CHECK(shorter.reason().find("differs from the") != std::string::npos);
    REQUIRE(!parse_message(bytes + "x"));
    REQUIRE(!parse_message(bytes.substr(0, 10)));
}

TEST_CASE("dbus: an array length past the end of the body is reported, not read") {
    auto body = list_units_body(two_units);
    marshal patch;
    patch.u(0x7fffffff);
    body.replace(0, 4, patch.out);
    auto parsed = parse_message(reply("a(ssssssouso)", body));
    REQUIRE(parsed);
    auto units = parse_list_units(*parsed);
    REQUIRE(!units);
    CHECK(units.reason() == "corrupt at byte 8: array runs past the end");
}

TEST_CASE("dbus: a string length past its array is reported with its offset") {
    auto body = list_units_body(two_units);
    marshal patch;
    patch.u(5000);
    body.replace(8, 4, patch.out);  // the first unit's name length
    auto parsed = parse_message(reply("a(ssssssouso)", body));
    REQUIRE(parsed);
    auto units = parse_list_units(*parsed);
    REQUIRE(!units);
    CHECK(units.reason() == "corrupt at byte 12: value runs past the end");
}

TEST_CASE("dbus: non-zero padding and a missing terminator are corrupt") {
    auto body = list_units_body(two_units);
    body[4] = 'x';  // padding between the array length and the first struct
    auto parsed = parse_message(reply("a(ssssssouso)", body));
    REQUIRE(parsed);
    CHECK(parse_list_units(*parsed).reason() == "corrupt at byte 4: non-zero padding");

    body = list_units_body(two_units);
    body[12 + 11] = 'x';  // the NUL after "ssh.service"
    parsed = parse_message(reply("a(ssssssouso)", body));
    REQUIRE(parsed);
    CHECK(parse_list_units(*parsed).reason() ==
          "corrupt at byte 23: string without its terminating NUL");
}

TEST_CASE("dbus: a reply with another signature is not read as units") {
    auto parsed = parse_message(reply("as", list_units_body({})));
    REQUIRE(parsed);
    auto units = parse_list_units(*parsed);
    REQUIRE(!units);
    CHECK(units.reason() == "ListUnits reply has signature 'as', expected 'a(ssssssouso)'");
}

TEST_CASE("dbus: a string array (ListNames)") {
    marshal b;
    b.array(4, [&] {
        b.s("org.freedesktop.DBus");
        b.s(":1.7");
    });
    auto parsed = parse_message(reply("as", b.out));
    REQUIRE(parsed);
    auto names = parse_string_array(*parsed);
    REQUIRE(names);
    CHECK(*names == std::vector<std::string>{"org.freedesktop.DBus", ":1.7"});
}

TEST_CASE("dbus: an error reply names its error and text") {
    marshal b;
    b.s("The name is not activatable");
    auto bytes = build_message(
        3, 4,
        [](marshal& m) {
            field_s(m, 4, 's', "org.freedesktop.DBus.Error.ServiceUnknown");
            field_u(m, 5, 2);
            field_g(m, 8, "s");
        },
        b.out);
    auto parsed = parse_message(bytes);
    REQUIRE(parsed);
    CHECK(parsed->type == 3);
    CHECK(parsed->error_name == "org.freedesktop.DBus.Error.ServiceUnknown");
    CHECK(describe_error(*parsed) ==
          "org.freedesktop.DBus.Error.ServiceUnknown: The name is not activatable");
}

TEST_CASE("dbus: a header field of the wrong type is corrupt") {
    auto bytes = build_message(
        2, 4, [](marshal& m) { field_s(m, 5, 's', "not a serial"); }, "");
    auto parsed = parse_message(bytes);
    REQUIRE(!parsed);
    CHECK(parsed.reason() == "corrupt at byte 20: header field 5 has type 's'");
}

TEST_CASE("dbus: a method call is marshalled as the specification lays it out") {
    auto expected = build_message(
        1, 7,
        [](marshal& m) {
            field_s(m, 1, 'o', "/org/freedesktop/DBus");
            field_s(m, 2, 's', "org.freedesktop.DBus");
            field_s(m, 3, 's', "Hello");
            field_s(m, 6, 's', "org.freedesktop.DBus");
        },
        "", false, 0x2);  // NO_AUTO_START
    auto call = method_call(7, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                            "org.freedesktop.DBus", "Hello");
    CHECK(call == expected);
    CHECK(call.size() % 8 == 0);
    auto parsed = parse_message(call);
    REQUIRE(parsed);
    CHECK(parsed->type == 1);
    CHECK(parsed->serial == 7);
    CHECK(parsed->body.empty());
}

TEST_CASE("dbus: every truncation and every corrupted byte is an error or a value, no crash") {
    auto bytes = reply("a(ssssssouso)", list_units_body(two_units));
    for (std::size_t n = 0; n < bytes.size(); ++n)
        CHECK(!parse_message(std::string_view(bytes).substr(0, n)));
    std::size_t parsed_ok = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        for (unsigned char value : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
            auto garbled = bytes;
            garbled[i] = static_cast<char>(value);
            auto parsed = parse_message(garbled);
            if (!parsed) continue;
            ++parsed_ok;
            auto units = parse_list_units(*parsed);
            if (units) CHECK(units->size() <= 2);
        }
    }
    CHECK(parsed_ok > 0);
}

TEST_CASE("dbus: a header announcing more than the size limit is refused from 16 bytes") {
    auto bytes = reply("a(ssssssouso)", list_units_body(two_units));
    marshal patch;
    patch.u(0x40000000);
    bytes.replace(4, 4, patch.out);  // body length
    auto size = message_size(std::string_view(bytes).substr(0, 16));
    REQUIRE(!size);
    CHECK(size.reason().find("larger than") != std::string::npos);
}

TEST_CASE("dbus: the bus is authoritative for loaded units, files fill in the rest") {
    unit_row running{"ssh.service", "", "loaded", "active", "running", "", "", 0, "", ""};
    auto from_bus = merged_states("masked", &running);
    CHECK(from_bus.load_state == "loaded");
    CHECK(from_bus.active_state == "active");
    CHECK(from_bus.sub_state == "running");
    auto file_only = merged_states("masked", nullptr);
    CHECK(file_only.load_state == "masked");
    CHECK(file_only.active_state == "inactive");
    CHECK(file_only.sub_state == "dead");
}
