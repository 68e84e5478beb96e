// Notification settings, URLs, the three body formats and the backoff: pure functions.
#include "collector/config.h"
#include "collector/notify/formats.h"
#include "collector/notify/notifier.h"
#include "collector/notify/settings.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

namespace {

namespace json = boost::json;
using namespace muster::collector::notify;

notify_settings read_settings(const std::string& yaml) {
    auto doc = muster::load_yaml_string(yaml, "collector.yaml");
    notify_settings out;
    muster::read_config(doc, [&](muster::config_map& root) {
        out = read_notify_settings(root.get_map("notifications"), "/etc/muster");
    });
    return out;
}

outbox_row sample_row(const std::string& event) {
    outbox_row row;
    row.id = 7;
    row.incident_id = 12;
    row.event = event;
    row.dedup_key = "muster-incident-12";
    row.created_at = 1'764'460'860;
    row.payload = json::parse(R"({"event": ")" + event + R"(",
        "incident": {"id": 12, "title": "web-1: root-disk critical", "host": "web-1",
                     "ci_id": 3, "check": "root-disk", "check_type": "disk_usage",
                     "state": "new", "priority": "P2", "impact": "high", "urgency": "medium",
                     "status": "critical", "message": "/ is 97.1% full", "value": 97.1,
                     "unit": "%", "service": "web", "owner": "alice@example.org",
                     "opened_at": 1764460800, "updated_at": 1764460860, "resolved_at": null,
                     "response_due": 1764464400, "resolution_due": 1764489600, "count": 3,
                     "flapping": false}})")
                      .as_object();
    return row;
}

webhook hook_of(webhook_format format) {
    webhook hook;
    hook.name = "hook-1";
    hook.format = format;
    hook.routing_key = "secret-routing-key";
    return hook;
}

}  // namespace

TEST_CASE("webhook URLs are taken apart", "[notify]") {
    auto https = parse_webhook_url("https://hooks.example.org/services/T0?x=1");
    REQUIRE(https);
    CHECK(https->tls);
    CHECK(https->host == "hooks.example.org");
    CHECK(https->port == 443);
    CHECK(https->target == "/services/T0?x=1");
    auto http = parse_webhook_url("http://127.0.0.1:8080");
    REQUIRE(http);
    CHECK_FALSE(http->tls);
    CHECK(http->port == 8080);
    CHECK(http->target == "/");
    auto v6 = parse_webhook_url("https://[::1]:9443/hook");
    REQUIRE(v6);
    CHECK(v6->host == "::1");
    CHECK(v6->port == 9443);
    CHECK(parse_webhook_url("https://h?q")->target == "/?q");
    for (const char* bad : {"ftp://host/", "https://", "https://host:0/", "https://host:99999/",
                            "https://user:pw@host/", "https://host:/", "https://[::1/",
                            "https://host/a b", "hooks.example.org"}) {
        INFO(bad);
        CHECK_FALSE(parse_webhook_url(bad));
    }
}

TEST_CASE("notification settings: webhooks, formats and retry policy", "[notify]") {
    auto none = read_settings("");
    CHECK(none.webhooks.empty());
    CHECK(none.max_attempts == 10);

    auto set = read_settings(R"(notifications:
  webhooks:
    - name: ops
      url: https://hooks.example.org/muster
      ca_file: hooks-ca.pem
      timeout: 3s
    - name: pager
      format: pagerduty
      routing_key: abc
    - name: chat
      format: slack
      url: http://127.0.0.1:9000/slack
  retry: {max_attempts: 4, initial: 2s, max: 1m}
  poll_interval: 500ms
)");
    REQUIRE(set.webhooks.size() == 3);
    CHECK(set.webhooks[0].format == webhook_format::json);
    CHECK(set.webhooks[0].ca_file == "/etc/muster/hooks-ca.pem");
    CHECK(set.webhooks[0].timeout == std::chrono::seconds(3));
    CHECK(set.webhooks[1].url == "https://events.pagerduty.com/v2/enqueue");
    CHECK(set.webhooks[1].target.host == "events.pagerduty.com");
    CHECK(set.webhooks[1].routing_key == "abc");
    CHECK(set.webhooks[2].format == webhook_format::slack);
    CHECK_FALSE(set.webhooks[2].target.tls);
    CHECK(set.max_attempts == 4);
    CHECK(set.backoff_initial == std::chrono::seconds(2));
    CHECK(set.backoff_max == std::chrono::minutes(1));
    CHECK(set.poll_interval == std::chrono::milliseconds(500));

    auto fails = [](const std::string& yaml, const std::string& what) {
        INFO(yaml);
        CHECK_THROWS_WITH(read_settings("notifications:\n" + yaml),
                          Catch::Contains("collector.yaml:") && Catch::Contains(what));
    };
    fails("  webhooks: [{name: a, url: 'http://hooks.example.org/x'}]\n",
          "plain http is allowed only to a loopback address");
    fails("  webhooks: [{name: a, format: pagerduty}]\n", "routing_key");
    fails("  webhooks: [{name: a, url: 'https://h/', routing_key: k}]\n",
          "only a pagerduty webhook takes a routing_key");
    fails("  webhooks: [{name: a, url: 'https://h/'}, {name: a, url: 'https://g/'}]\n",
          "another webhook already has the name 'a'");
    fails("  webhooks: [{name: a, url: 'https://h/', fromat: json}]\n",
          "unknown key 'fromat' in 'notifications.webhooks[0]'");
    fails("  webhooks: [{name: 'a b', url: 'https://h/'}]\n", "expected letters");
    fails("  webhooks: [{name: a, url: 'https://h/', format: teams}]\n", "teams");
    fails("  retry: {initial: 10m, max: 1m}\n", "must be at least initial");
}

TEST_CASE("generic JSON is the payload as it is, with the webhook's name", "[notify]") {
    auto row = sample_row("trigger");
    auto body = json::parse(render(hook_of(webhook_format::json), row)).as_object();
    CHECK(body.at("webhook") == "hook-1");
    CHECK(body.at("dedup_key") == "muster-incident-12");
    CHECK(body.at("event") == "trigger");
    CHECK(body.at("incident") == row.payload.at("incident"));
    CHECK(body.size() == 4);
}

TEST_CASE("PagerDuty Events v2: trigger with a payload, resolve and acknowledge without",
          "[notify]") {
    auto trigger =
        json::parse(render(hook_of(webhook_format::pagerduty), sample_row("trigger"))).as_object();
    CHECK(trigger.at("routing_key") == "secret-routing-key");
    CHECK(trigger.at("event_action") == "trigger");
    CHECK(trigger.at("dedup_key") == "muster-incident-12");
    const auto& payload = trigger.at("payload").as_object();
    CHECK(payload.at("summary") == "web-1: root-disk critical: / is 97.1% full");
    CHECK(payload.at("source") == "web-1");
    CHECK(payload.at("severity") == "error");  // P2
    CHECK(payload.at("timestamp") == "2025-11-30T00:01:00Z");
    CHECK(payload.at("component") == "root-disk");
    CHECK(payload.at("group") == "web");
    CHECK(payload.at("custom_details").at("owner") == "alice@example.org");

    for (const char* event : {"resolve", "acknowledge"}) {
        auto body =
            json::parse(render(hook_of(webhook_format::pagerduty), sample_row(event))).as_object();
        CHECK(body.size() == 3);
        CHECK(body.at("event_action") == event);
        CHECK(body.at("dedup_key") == "muster-incident-12");
    }
}

TEST_CASE("PagerDuty severity follows priority, capped by a warning status", "[notify]") {
    auto severity = [](const char* priority, const char* status) {
        return pagerduty_severity(json::object{{"priority", priority}, {"status", status}});
    };
    CHECK(severity("P1", "critical") == "critical");
    CHECK(severity("P2", "critical") == "error");
    CHECK(severity("P3", "critical") == "warning");
    CHECK(severity("P4", "critical") == "info");
    CHECK(severity("P1", "warning") == "warning");
    CHECK(severity("P4", "warning") == "info");
}

TEST_CASE("a long PagerDuty summary is cut to 1024 bytes on a character boundary", "[notify]") {
    auto row = sample_row("trigger");
    std::string message;
    for (int i = 0; i < 600; ++i) message += "\xc3\xa9";  // é, two bytes each
    row.payload["incident"].as_object()["message"] = message;
    auto body = json::parse(render(hook_of(webhook_format::pagerduty), row));
    auto summary = std::string(body.at("payload").at("summary").as_string());
    CHECK(summary.size() <= 1024);
    CHECK(summary.size() > 1000);
    CHECK((static_cast<unsigned char>(summary.back()) & 0xC0) != 0xC0);  // no cut lead byte
}

TEST_CASE("Slack text names priority, host, check, state and message", "[notify]") {
    auto body = json::parse(render(hook_of(webhook_format::slack), sample_row("trigger")));
    REQUIRE(body.as_object().size() == 1);
    std::string text(body.at("text").as_string());
    for (const char* part :
         {"[P2]", "Incident #12", "web-1: root-disk critical", "host: web-1", "check: root-disk",
          "state: new", "/ is 97.1% full", "owner: alice@example.org"}) {
        INFO(part);
        CHECK(text.find(part) != std::string::npos);
    }
    auto resolved = json::parse(render(hook_of(webhook_format::slack), sample_row("resolve")));
    CHECK(std::string(resolved.at("text").as_string()).find("Resolved #12") != std::string::npos);
}

TEST_CASE("a payload with missing fields still renders", "[notify]") {
    outbox_row row;
    row.event = "trigger";
    row.dedup_key = "muster-incident-1";
    for (auto format : {webhook_format::json, webhook_format::pagerduty, webhook_format::slack}) {
        CHECK_NOTHROW(json::parse(render(hook_of(format), row)));
    }
}

TEST_CASE("backoff doubles from initial up to max, with jitter of up to half", "[notify]") {
    notify_settings settings;
    settings.backoff_initial = std::chrono::seconds(10);
    settings.backoff_max = std::chrono::seconds(60);
    CHECK(backoff_seconds(settings, 1, 1.0) == 10);
    CHECK(backoff_seconds(settings, 1, 0.0) == 5);
    CHECK(backoff_seconds(settings, 2, 1.0) == 20);
    CHECK(backoff_seconds(settings, 3, 1.0) == 40);
    CHECK(backoff_seconds(settings, 4, 1.0) == 60);
    CHECK(backoff_seconds(settings, 50, 1.0) == 60);
    CHECK(backoff_seconds(settings, 4, 0.0) == 30);
    settings.backoff_initial = std::chrono::milliseconds(100);
    CHECK(backoff_seconds(settings, 1, 0.0) == 1);  // whole seconds, at least one
}

TEST_CASE("the example config/collector.yaml documents notifications and maintenance", "[notify]") {
    auto config = muster::collector::load_collector_config(std::string(MUSTER_SOURCE_DIR) +
                                                           "/config/collector.yaml");
    const auto& hooks = config.notifications.webhooks;
    REQUIRE(hooks.size() == 3);
    CHECK(hooks[0].format == webhook_format::json);
    CHECK(hooks[1].format == webhook_format::pagerduty);
    CHECK_FALSE(hooks[1].routing_key.empty());
    CHECK(hooks[2].format == webhook_format::slack);
    CHECK(config.notifications.max_attempts == 10);
    CHECK(config.maintenance.history_retention == std::chrono::hours(24 * 400));
    CHECK(config.maintenance.interval == std::chrono::seconds(60));
}

TEST_CASE("Slack text from agents cannot mention a channel or make a link", "[notify]") {
    auto row = sample_row("trigger");
    row.payload["incident"].as_object()["message"] =
        "<!channel> see <https://evil.example|login> & co";
    auto body = json::parse(render(hook_of(webhook_format::slack), row));
    std::string text(body.at("text").as_string());
    CHECK(text.find('<') == std::string::npos);
    CHECK(text.find('>') == std::string::npos);
    CHECK(text.find("&lt;!channel&gt; see &lt;https://evil.example|login&gt; &amp; co") !=
          std::string::npos);
}
