#pragma once
// The state of a host and the deltas between two states (docs/protocol.md, "The state" and
// "Deltas"). The state is the inventory document without its volatile fields and errors,
// with the rows of each row section sorted by the canonical JSON of their key and unique by
// key. Agent and collector both hash it, so every function here is deterministic.
//
// Error policy: make_state, state_hash and compute_changes work on documents this program
// built; they throw std::invalid_argument only when they must write a floating point number
// as canonical JSON (a row key, or anything hashed). apply_changes reads changes that came
// over the network: it never throws on any input and reports a malformed change as an error.
#include <boost/json.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace muster {

// A section whose value is an array of rows identified by a key made of some of their fields.
struct row_section {
    std::string_view name;
    std::span<const std::string_view> key_fields;
};

// The row sections and their keys, as in the protocol's table.
std::span<const row_section> row_sections();
// The row section called name, or nullptr for a value section.
const row_section* find_row_section(std::string_view name);

// True when make_state drops fields of this section (volatile ones, such as uptime): a caller
// that takes a section's rows as they are in the inventory may do so only when this is false.
bool has_volatile_fields(std::string_view section);

// The state of an inventory document. A row that is not an object has no key and is dropped;
// a key field the row lacks counts as null.
boost::json::object make_state(const boost::json::object& inventory);

// Lower-case hex SHA-256 of the canonical JSON of the state.
std::string state_hash(const boost::json::object& state);

// The changes that turn old_state into new_state: one member per changed section, nothing
// for an unchanged one, so equal states give {}.
//   value section:  {"set": new value}, or {"unset": true} when new_state lacks the section
//                   (a null section is a value, so a missing one needs its own form)
//   row section:    {"added": [rows], "changed": [rows], "removed": [keys]}, only the
//                   non-empty lists, each in the canonical order of the keys; {"set": …}
//                   when the section is not an array in one of the states.
boost::json::object compute_changes(const boost::json::object& old_state,
                                    const boost::json::object& new_state);

enum class changes_errc {
    changes_not_object = 1,
    change_not_object,
    malformed_change,
    unknown_member,
    not_a_row_section,
    section_not_rows,
    section_absent,
    wrong_type,
    key_not_present,
    key_already_present,
    duplicate_key,
    floating_point_number,
};

const boost::system::error_category& changes_category();
boost::system::error_code make_error_code(changes_errc e);

// The state that results from applying changes to base_state, re-sorted and stripped like
// make_state's output, so that for two states a and b:
//     state_hash(*apply_changes(a, compute_changes(a, b))) == state_hash(b).
// Every malformed change is an error (changes_category), never an exception.
boost::system::result<boost::json::object> apply_changes(const boost::json::object& base_state,
                                                         const boost::json::object& changes);
boost::system::result<boost::json::object> apply_changes(const boost::json::object& base_state,
                                                         const boost::json::value& changes);

}  // namespace muster

template <>
struct boost::system::is_error_code_enum<muster::changes_errc> : std::true_type {};
