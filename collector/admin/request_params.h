#pragma once
// Reading an admin API request's target: the path and its query parameters (URL-decoded), and
// checking each parameter, so that every refusal names the parameter and says what it expects.
//
// Error policy: parsers of untrusted input return values; a bad parameter is a param_error
// (the admin API answers 400 bad_request with its message).
#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace muster::collector::admin {

class param_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// %XX and '+' decoded; nullopt for a broken escape.
std::optional<std::string> url_decode(std::string_view text);

struct request_target {
    std::vector<std::string> segments;  // the path split at '/', decoded, empty ones dropped
    std::map<std::string, std::string, std::less<>> params;
};

// Throws param_error for a broken escape or a parameter given twice.
request_target parse_target(std::string_view target);

// Takes the parameters out of a request_target one by one; finish() refuses any left over
// (a misspelt filter must not silently match everything).
class params_reader {
  public:
    explicit params_reader(std::map<std::string, std::string, std::less<>> params)
        : params_(std::move(params)) {}

    // Text filters: not empty, at most 256 bytes, no control characters.
    std::optional<std::string> text(std::string_view name);
    // One of the given words.
    std::optional<std::string> one_of(std::string_view name,
                                      std::initializer_list<std::string_view> words);
    std::optional<std::int64_t> integer(std::string_view name, std::int64_t min, std::int64_t max);
    // Unix seconds, or a duration back from now ("30d", "12h", "15m", "90s").
    std::optional<std::int64_t> time(std::string_view name, std::int64_t now);
    // limit (1..5000, default 100) and cursor (decoded for the list).
    std::size_t limit();
    std::optional<boost::json::array> cursor(std::string_view list);

    void finish();

  private:
    std::optional<std::string> take(std::string_view name);
    std::map<std::string, std::string, std::less<>> params_;
};

// Opaque cursors: base64url of ["<list>", key...]. decode answers nullopt for anything that
// is not a cursor of that list.
std::string encode_cursor(std::string_view list, const boost::json::array& key);
std::optional<boost::json::array> decode_cursor(std::string_view list, std::string_view text);

inline constexpr std::size_t max_limit = 5000;
inline constexpr std::size_t default_limit = 100;
inline constexpr std::size_t max_text = 256;

}  // namespace muster::collector::admin
