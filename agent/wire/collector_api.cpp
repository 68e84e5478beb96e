#include "agent/wire/collector_api.h"

namespace muster::agent::wire {
namespace {

boost::json::value string_or_null(const boost::json::object* section, std::string_view key) {
    if (!section) return nullptr;
    auto it = section->find(key);
    if (it == section->end() || !it->value().is_string()) return nullptr;
    return it->value();
}

const boost::json::object* section_of(const boost::json::object& doc, std::string_view name) {
    auto it = doc.find(name);
    return it != doc.end() && it->value().is_object() ? &it->value().as_object() : nullptr;
}

std::optional<boost::json::object> parse_object(const std::string& body) {
    boost::system::error_code ec;
    auto value = boost::json::parse(body, ec);
    if (ec || !value.is_object()) return std::nullopt;
    return std::move(value.as_object());
}

// "status 409 resync: <collector's message>"
std::string describe(unsigned status, const std::string& body) {
    std::string message;
    auto code = error_code_of(body, &message);
    std::string text = "status " + std::to_string(status);
    if (!code.empty()) text += " " + code;
    if (!message.empty()) text += ": " + message;
    return text;
}

std::string id_of(const std::string& body) {
    auto o = parse_object(body);
    if (!o) return "";
    auto it = o->find("agent_id");
    return it != o->end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

}  // namespace

std::string error_code_of(const std::string& body, std::string* message) {
    auto o = parse_object(body);
    if (!o) return "";
    auto error = o->find("error");
    if (error == o->end() || !error->value().is_object()) return "";
    const auto& e = error->value().as_object();
    if (message) {
        auto m = e.find("message");
        if (m != e.end() && m->value().is_string()) *message = std::string(m->value().as_string());
    }
    auto code = e.find("code");
    return code != e.end() && code->value().is_string() ? std::string(code->value().as_string())
                                                        : "";
}

boost::json::object identity_facts(const boost::json::object& inventory) {
    auto system = section_of(inventory, "system");
    auto hardware = section_of(inventory, "hardware");
    return {{"hostname", string_or_null(system, "hostname")},
            {"machine_id", string_or_null(system, "machine_id")},
            {"product_uuid", string_or_null(hardware, "product_uuid")},
            {"serial", string_or_null(hardware, "serial")}};
}

enroll_result enroll(https_client& client, const std::string& token, const ed25519_key& key,
                     const boost::json::object& facts) {
    http_request request;
    request.target = "/api/v1/enroll";
    request.body = boost::json::serialize(boost::json::object{
        {"token", token}, {"public_key", base64_encode(key.public_raw())}, {"facts", facts}});
    auto outcome = client.post(request);
    enroll_result result;
    if (!outcome.ok()) {
        result.status = outcome.failure == http_failure::untrusted ? enroll_status::untrusted
                                                                   : enroll_status::failed;
        result.message = outcome.error;
        return result;
    }
    return enroll_result_of(outcome.response);
}

enroll_result enroll_result_of(const http_response& res) {
    enroll_result result;
    result.message = "enrollment: " + describe(res.status, res.body);
    result.retry_after = res.retry_after;
    switch (res.status) {
        case 200:
        case 202:
            result.agent_id = id_of(res.body);
            if (result.agent_id.empty()) {
                result.message =
                    "enrollment: status " + std::to_string(res.status) + " without an agent_id";
                return result;
            }
            result.status = res.status == 200 ? enroll_status::active : enroll_status::pending;
            return result;
        case 401:
            result.status = enroll_status::bad_token;
            return result;
        case 403:
            result.status = enroll_status::revoked;
            return result;
        default:
            return result;
    }
}

report_result post_report(https_client& client, const std::string& agent_id,
                          const report_entry& entry) {
    http_request request;
    request.target = "/api/v1/reports";
    request.headers = {{"Content-Encoding", "gzip"},
                       {"X-Muster-Agent-Id", agent_id},
                       {"X-Muster-Signature", base64_encode(entry.signature)}};
    request.body = entry.body;
    auto outcome = client.post(request);
    report_result result;
    if (!outcome.ok()) {
        result.verdict = outcome.failure == http_failure::untrusted   ? report_verdict::untrusted
                         : outcome.failure == http_failure::cancelled ? report_verdict::cancelled
                                                                      : report_verdict::retry;
        result.message = outcome.error;
        return result;
    }
    return report_result_of(outcome.response, entry.seq);
}

report_result report_result_of(const http_response& res, std::uint64_t seq) {
    report_result result;
    auto code = error_code_of(res.body);
    result.message = "report " + std::to_string(seq) + ": " + describe(res.status, res.body);
    result.retry_after = res.retry_after;
    if (res.status == 200) {
        bool matches = false;
        if (auto ack = parse_object(res.body)) {
            auto acked = ack->find("seq");
            boost::system::error_code ec;
            if (acked != ack->end())
                matches = acked->value().to_number<std::uint64_t>(ec) == seq && !ec;
        }
        if (matches)
            result.verdict = report_verdict::acked;
        else
            result.message += " (the acknowledgement does not name this seq)";
        return result;
    }
    if (res.status == 409) {
        result.verdict = code == "replay" ? report_verdict::replay : report_verdict::resync;
    } else if (res.status == 403) {
        result.verdict = code == "pending" ? report_verdict::retry : report_verdict::revoked;
    } else if (res.status == 401 && code == "unknown_agent") {
        result.verdict = report_verdict::unknown_agent;
    } else if (res.status == 400 && code == "clock_skew") {
        result.verdict = report_verdict::clock_skew;
    } else if (res.status == 429 || res.status >= 500) {
        result.verdict = report_verdict::retry;
    } else if (res.status >= 400) {
        result.verdict = report_verdict::rejected;
    }
    return result;
}

}  // namespace muster::agent::wire
