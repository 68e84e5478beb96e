#include "collector/notify/formats.h"

#include <ctime>

namespace muster::collector::notify {
namespace {

namespace json = boost::json;

// PagerDuty refuses a summary longer than 1024 characters.
constexpr std::size_t pagerduty_summary_max = 1024;

std::string text_of(const json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    if (!value) return {};
    if (value->is_string()) return std::string(value->get_string());
    if (value->is_null()) return {};
    return json::serialize(*value);
}

std::int64_t int_of(const json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    if (value && value->is_int64()) return value->get_int64();
    if (value && value->is_uint64()) return static_cast<std::int64_t>(value->get_uint64());
    return 0;
}

json::object incident_of(const outbox_row& row) {
    const auto* incident = row.payload.if_contains("incident");
    return incident && incident->is_object() ? incident->get_object() : json::object{};
}

std::string summary_of(const json::object& incident) {
    std::string summary = text_of(incident, "title");
    if (summary.empty()) summary = text_of(incident, "host") + ": " + text_of(incident, "check");
    if (auto message = text_of(incident, "message"); !message.empty()) summary += ": " + message;
    // Cut on a UTF-8 character boundary.
    if (summary.size() > pagerduty_summary_max) {
        std::size_t end = pagerduty_summary_max;
        while (end > 0 && (static_cast<unsigned char>(summary[end]) & 0xC0) == 0x80) --end;
        summary.resize(end);
    }
    return summary;
}

std::string render_json(const webhook& hook, const outbox_row& row) {
    json::object body = row.payload;
    body["webhook"] = hook.name;
    body["dedup_key"] = row.dedup_key;
    return json::serialize(body);
}

std::string render_pagerduty(const webhook& hook, const outbox_row& row) {
    json::object body{{"routing_key", hook.routing_key},
                      {"event_action", row.event},
                      {"dedup_key", row.dedup_key}};
    if (row.event == "trigger") {
        auto incident = incident_of(row);
        std::int64_t at = int_of(incident, "updated_at");
        if (at == 0) at = row.created_at;
        json::object payload{
            {"summary", summary_of(incident)},          {"source", text_of(incident, "host")},
            {"severity", pagerduty_severity(incident)}, {"timestamp", iso8601_utc(at)},
            {"component", text_of(incident, "check")},  {"custom_details", incident}};
        if (auto service = text_of(incident, "service"); !service.empty()) {
            payload["group"] = service;
        }
        if (text_of(incident, "host").empty()) payload["source"] = "muster";
        body["payload"] = std::move(payload);
    }
    return json::serialize(body);
}

// Slack reads <...> as links and mentions (<!channel>); text from agents must not make one.
std::string slack_escaped(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '&')
            out += "&amp;";
        else if (c == '<')
            out += "&lt;";
        else if (c == '>')
            out += "&gt;";
        else
            out += c;
    }
    return out;
}

std::string render_slack(const outbox_row& row) {
    auto incident = incident_of(row);
    std::string verb = row.event == "trigger"       ? "Incident"
                       : row.event == "acknowledge" ? "Acknowledged"
                                                    : "Resolved";
    std::string text =
        "[" + text_of(incident, "priority") + "] " + verb + " #" +
        std::to_string(int_of(incident, "id")) + ": " + text_of(incident, "title") +
        "\nhost: " + text_of(incident, "host") + " | check: " + text_of(incident, "check") +
        " | state: " + text_of(incident, "state") + " | status: " + text_of(incident, "status");
    if (auto owner = text_of(incident, "owner"); !owner.empty()) text += " | owner: " + owner;
    if (auto message = text_of(incident, "message"); !message.empty()) {
        text += "\n" + message;
    }
    return json::serialize(json::object{{"text", slack_escaped(text)}});
}

}  // namespace

std::string iso8601_utc(std::int64_t unix_seconds) {
    std::time_t time = static_cast<std::time_t>(unix_seconds);
    std::tm parts{};
    gmtime_r(&time, &parts);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return buffer;
}

std::string pagerduty_severity(const json::object& incident) {
    std::string priority = text_of(incident, "priority");
    std::string severity = priority == "P1"   ? "critical"
                           : priority == "P2" ? "error"
                           : priority == "P3" ? "warning"
                                              : "info";
    bool only_warning = text_of(incident, "status") == "warning";
    if (only_warning && (severity == "critical" || severity == "error")) return "warning";
    return severity;
}

std::string render(const webhook& hook, const outbox_row& row) {
    switch (hook.format) {
        case webhook_format::pagerduty:
            return render_pagerduty(hook, row);
        case webhook_format::slack:
            return render_slack(row);
        case webhook_format::json:
            break;
    }
    return render_json(hook, row);
}

}  // namespace muster::collector::notify
