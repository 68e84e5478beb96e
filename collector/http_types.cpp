#include "collector/http_types.h"

#include <boost/json.hpp>

namespace muster::collector {

http_response json_response(http::status status, std::string body) {
    http_response response{status, 11};
    response.set(http::field::content_type, "application/json");
    response.set(http::field::cache_control, "no-store");
    response.body() = std::move(body);
    response.prepare_payload();
    return response;
}

http_response error_response(http::status status, std::string_view code, std::string_view message,
                             std::optional<std::chrono::seconds> retry_after) {
    boost::json::object error{
        {"status", static_cast<int>(status)}, {"code", code}, {"message", message}};
    auto response =
        json_response(status, boost::json::serialize(boost::json::object{{"error", error}}));
    if (retry_after) response.set(http::field::retry_after, std::to_string(retry_after->count()));
    return response;
}

http_response to_response(const refusal& r) {
    return error_response(r.status, r.code, r.message, r.retry_after);
}

}  // namespace muster::collector
