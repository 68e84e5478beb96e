// Fuzz target: the agent's reading of the collector's answers (agent/wire/collector_api.cpp
// enroll_result_of, report_result_of, error_code_of; agent/wire/https_client.cpp
// parse_retry_after), without a socket.
//
// The input is text: the status code on the first line, the Retry-After header's value on
// the second, the body after that ("200\n\n{\"status\": \"ok\", \"seq\": 42}"). A first line
// that is not a number up to 999 is taken as status 200 and part of the body.
#include "agent/wire/collector_api.h"
#include "tests/fuzz/fuzz_support.h"

#include <charconv>
#include <string>

namespace {

using namespace muster;

// The text up to the next newline (all of it when there is none), consumed from text.
std::string_view take_line(std::string_view& text) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    return line;
}

agent::wire::http_response response_of(std::string_view text) {
    agent::wire::http_response res;
    auto rest = text;
    auto first = take_line(rest);
    unsigned status = 0;
    auto [end, ec] = std::from_chars(first.data(), first.data() + first.size(), status);
    if (ec != std::errc() || end != first.data() + first.size() || status > 999) {
        res.status = 200;
        res.body = std::string(text);
        return res;
    }
    res.status = status;
    res.retry_after = agent::wire::parse_retry_after(take_line(rest));
    res.body = std::string(rest);
    return res;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto res = response_of(fuzz::as_text(data, size));
    auto enrolled = agent::wire::enroll_result_of(res);
    if (enrolled.status == agent::wire::enroll_status::active && enrolled.agent_id.empty())
        std::abort();  // enrolled without an id: the agent would store an empty identity
    auto report = agent::wire::report_result_of(res, 42);
    if (report.verdict == agent::wire::report_verdict::acked && res.status != 200)
        std::abort();  // only a 200 acknowledges
    std::string message;
    (void)agent::wire::error_code_of(res.body, &message);
    return 0;
}
