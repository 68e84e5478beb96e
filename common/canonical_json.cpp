#include "common/canonical_json.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace muster {

namespace {

// Where the writer is in the document, kept on the stack as a chain to the root so that the
// JSON pointer is only spelled out when an error needs it.
struct location {
    const location* parent = nullptr;
    std::string_view key;   // the member name, when inside an object
    std::size_t index = 0;  // the element index, when inside an array
    bool in_object = false;
};

// RFC 6901: "~" is written "~0" and "/" is written "~1".
void append_pointer_token(std::string& out, std::string_view token) {
    for (char c : token) {
        if (c == '~') {
            out += "~0";
        } else if (c == '/') {
            out += "~1";
        } else {
            out += c;
        }
    }
}

std::string json_pointer(const location* at) {
    std::vector<const location*> chain;
    for (; at != nullptr && at->parent != nullptr; at = at->parent) chain.push_back(at);
    std::string pointer;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        pointer += '/';
        if ((*it)->in_object) {
            append_pointer_token(pointer, (*it)->key);
        } else {
            pointer += std::to_string((*it)->index);
        }
    }
    return pointer;
}

// UTF-8 bytes (and DEL) are written as they are.
constexpr std::array<bool, 256> escaped_bytes = [] {
    std::array<bool, 256> table{};
    for (std::size_t c = 0; c < 0x20; ++c) table[c] = true;
    table['"'] = true;
    table['\\'] = true;
    return table;
}();

// The length of the leading run of s that needs no escape. A plain loop over a table: the
// collector writes the canonical text of every row of a full report, and find_if with a
// predicate function was a twentieth of its cost.
std::size_t plain_run(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size() && !escaped_bytes[static_cast<unsigned char>(s[i])]) ++i;
    return i;
}

void append_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    // Runs without an escape are copied whole: the collector writes every row of a full
    // report this way, and byte-by-byte appends were a tenth of its cost.
    while (!s.empty()) {
        auto run = plain_run(s);
        out.append(s.data(), run);
        s.remove_prefix(run);
        if (s.empty()) break;
        char c = s.front();
        s.remove_prefix(1);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:  // another control character
                out += "\\u00";
                out += hex[(c >> 4) & 0xf];
                out += hex[c & 0xf];
        }
    }
    out += '"';
}

template <class Integer>
void append_integer(std::string& out, Integer n) {
    std::array<char, 24> digits{};
    auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), n);
    out.append(digits.data(), end);
}

void append_value(std::string& out, const boost::json::value& value, const location& at);

void append_members(std::string& out, std::span<const boost::json::key_value_pair*> members,
                    const location& at) {
    // std::string_view compares as unsigned bytes, which is the order the protocol wants.
    std::sort(members.begin(), members.end(),
              [](auto* a, auto* b) { return std::string_view(a->key()) < b->key(); });
    out += '{';
    for (std::size_t i = 0; i < members.size(); ++i) {
        if (i != 0) out += ',';
        append_string(out, members[i]->key());
        out += ':';
        location child{&at, members[i]->key(), 0, true};
        append_value(out, members[i]->value(), child);
    }
    out += '}';
}

void append_object(std::string& out, const boost::json::object& object, const location& at) {
    // Most objects (a package, a service) have a few members: their order is sorted on the
    // stack, as a heap vector per row was a good part of writing a full report's rows.
    constexpr std::size_t on_stack = 16;
    if (object.size() <= on_stack) {
        std::array<const boost::json::key_value_pair*, on_stack> members{};
        std::size_t count = 0;
        for (const auto& member : object) members[count++] = &member;
        append_members(out, std::span(members.data(), count), at);
        return;
    }
    std::vector<const boost::json::key_value_pair*> members;
    members.reserve(object.size());
    for (const auto& member : object) members.push_back(&member);
    append_members(out, members, at);
}

void append_array(std::string& out, const boost::json::array& array, const location& at) {
    out += '[';
    for (std::size_t i = 0; i < array.size(); ++i) {
        if (i != 0) out += ',';
        location child{&at, {}, i, false};
        append_value(out, array[i], child);
    }
    out += ']';
}

void append_value(std::string& out, const boost::json::value& value, const location& at) {
    switch (value.kind()) {
        case boost::json::kind::null:
            out += "null";
            return;
        case boost::json::kind::bool_:
            out += value.get_bool() ? "true" : "false";
            return;
        case boost::json::kind::int64:
            append_integer(out, value.get_int64());
            return;
        case boost::json::kind::uint64:
            append_integer(out, value.get_uint64());
            return;
        case boost::json::kind::string:
            append_string(out, value.get_string());
            return;
        case boost::json::kind::array:
            append_array(out, value.get_array(), at);
            return;
        case boost::json::kind::object:
            append_object(out, value.get_object(), at);
            return;
        case boost::json::kind::double_:
            throw std::invalid_argument(
                "canonical JSON has no floating point numbers, found one at \"" +
                json_pointer(&at) + "\"");
    }
}

}  // namespace

void append_canonical_json(std::string& out, const boost::json::value& value) {
    location root;
    append_value(out, value, root);
}

std::string canonical_json(const boost::json::value& value) {
    std::string out;
    // A row's text is a few hundred bytes: one allocation instead of a doubling series.
    out.reserve(256);
    append_canonical_json(out, value);
    return out;
}

}  // namespace muster
