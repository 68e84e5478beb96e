#pragma once
// gzip (RFC 1952) compression for inventory uploads and spool files, with zlib.
//
// Error policy: gzip_decompress treats its input as untrusted and returns an error value
// (gzip_errc, category "gzip") for truncated, corrupt or oversized input; it never throws
// for bad data. gzip_compress only fails on programming errors or memory exhaustion and
// throws then (std::invalid_argument, std::bad_alloc).
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

namespace muster {

enum class gzip_errc {
    truncated = 1,     // the input ends before the gzip trailer
    corrupt,           // not gzip, bad deflate data or checksum mismatch
    too_large,         // the output would exceed max_output
    trailing_garbage,  // bytes after the last gzip member
    out_of_memory,
};

const boost::system::error_category& gzip_category();
boost::system::error_code make_error_code(gzip_errc e);

// level: 0 (store) to 9 (best), as zlib.
std::string gzip_compress(std::string_view data, int level = 6);

// Decompresses one or more concatenated gzip members (as `gzip -dc` does). Stops as soon as
// the output would pass max_output, so a small "gzip bomb" cannot allocate more than that.
boost::system::result<std::string> gzip_decompress(std::string_view data, std::size_t max_output);

}  // namespace muster

template <>
struct boost::system::is_error_code_enum<muster::gzip_errc> : std::true_type {};
