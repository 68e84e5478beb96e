#include "collector/admin/handlers.h"

#include <algorithm>

namespace muster::collector::admin {

namespace json = boost::json;

[[noreturn]] void fail(http::status status, std::string code, std::string message) {
    throw api_error{status, std::move(code), std::move(message)};
}

std::string printable(std::string_view text) {
    std::string out;
    for (char c : text.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
}

http_response json_ok(const json::value& value, http::status status) {
    return json_response(status, json::serialize(value));
}

http_response page_response(const page& result, std::string_view list) {
    json::object body{{"items", result.items}};
    body["next_cursor"] =
        result.next_key ? json::value(encode_cursor(list, *result.next_key)) : json::value(nullptr);
    return json_ok(body);
}

page_request paging(call& c, std::string_view list) {
    page_request request;
    request.limit = c.params.limit();
    request.after = c.params.cursor(list);
    return request;
}

std::int64_t resolve_host(env& e, const std::string& name) {
    auto ids = e.queries.resolve_host(name);
    if (ids.empty())
        fail(http::status::not_found, "not_found", "no host '" + printable(name) + "'");
    if (ids.size() > 1) {
        std::string list;
        for (auto id : ids) list += (list.empty() ? "" : ", ") + std::to_string(id);
        fail(http::status::conflict, "conflict",
             "the hostname '" + printable(name) + "' names several hosts (ids " + list +
                 "); use an id");
    }
    return ids.front();
}

std::int64_t path_id(const std::string& text, std::string_view what) {
    bool digits =
        !text.empty() && text.size() <= 18 &&
        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits)
        fail(http::status::not_found, "not_found",
             "no " + std::string(what) + " '" + printable(text) + "'");
    return std::stoll(text);
}

json::object body_object(const http_request& request) {
    if (request.body().empty()) return {};
    boost::system::error_code ec;
    auto parsed = json::parse(request.body(), ec);
    if (ec || !parsed.is_object())
        fail(http::status::bad_request, "bad_request", "the body must be a JSON object");
    return parsed.as_object();
}

std::optional<std::string> body_text(const json::object& body, std::string_view name,
                                     std::size_t max_size) {
    const auto* value = body.if_contains(name);
    if (!value || value->is_null()) return std::nullopt;
    if (!value->is_string())
        fail(http::status::bad_request, "bad_request", std::string(name) + ": must be a string");
    std::string text(value->get_string());
    if (text.size() > max_size) {
        fail(http::status::bad_request, "bad_request",
             std::string(name) + ": at most " + std::to_string(max_size) + " bytes");
    }
    return text;
}

}  // namespace muster::collector::admin
