// The notification worker against a real SQLite CMDB and a real webhook receiver on loopback
// (HTTP, and HTTPS with a certificate made by openssl): order per incident, retries with
// backoff, permanent failures, max_attempts, restart durability, TLS verification.
#include "collector/notify/notifier.h"
#include "collector/sqlite_store.h"
#include "common/sqlite.h"
#include "support/process.h"
#include "support/webhook_receiver.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <atomic>

namespace {

namespace json = boost::json;
using namespace muster::collector::notify;

constexpr std::int64_t t0 = 1'764'460'800;

struct outbox_db {
    muster::test::temp_dir dir;
    std::filesystem::path file = std::filesystem::path(dir.path()) / "cmdb.sqlite";
    muster::sqlite_database db{[this] {
        muster::collector::open_sqlite_store(file);  // the schema, with the outbox (v2)
        return file;
    }()};

    outbox_db() { db.set_busy_timeout(10'000); }

    // What the incident engine does: one row, payload as C3.
    std::int64_t enqueue(std::int64_t incident, const std::string& event) {
        json::object payload{{"event", event},
                             {"incident", json::object{{"id", incident},
                                                       {"title", "web-1: root-disk critical"},
                                                       {"host", "web-1"},
                                                       {"check", "root-disk"},
                                                       {"priority", "P2"},
                                                       {"state", "new"},
                                                       {"status", "critical"}}}};
        auto insert = db.prepare(
            "INSERT INTO notification_outbox (incident_id, event, dedup_key, payload, "
            "created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
        insert.bind(1, incident);
        insert.bind(2, event);
        insert.bind(3, "muster-incident-" + std::to_string(incident));
        insert.bind(4, json::serialize(payload));
        insert.bind(5, t0);
        insert.step();
        return db.last_insert_rowid();
    }

    struct delivery {
        std::int64_t attempts = 0;
        std::int64_t next_attempt_at = 0;
        bool delivered = false;
        bool failed = false;
        std::string last_error;
    };
    delivery delivery_of(std::int64_t outbox_id, const std::string& webhook) {
        auto select = db.prepare(
            "SELECT attempts, next_attempt_at, delivered_at IS NOT NULL, failed_at IS NOT NULL, "
            "coalesce(last_error, '') FROM notification_deliveries "
            "WHERE outbox_id = ?1 AND webhook = ?2");
        select.bind(1, outbox_id);
        select.bind(2, webhook);
        REQUIRE(select.step());
        return {select.column_int64(0), select.column_int64(1), select.column_int64(2) != 0,
                select.column_int64(3) != 0, select.column_text(4)};
    }
};

webhook hook_to(const std::string& name, const std::string& url,
                webhook_format format = webhook_format::json) {
    webhook hook;
    hook.name = name;
    hook.url = url;
    hook.target = *parse_webhook_url(url);
    hook.format = format;
    hook.routing_key = "rk-secret";
    hook.timeout = std::chrono::seconds(20);
    return hook;
}

notify_settings settings_with(std::vector<webhook> hooks) {
    notify_settings settings;
    settings.webhooks = std::move(hooks);
    settings.backoff_initial = std::chrono::seconds(10);
    settings.backoff_max = std::chrono::seconds(100);
    settings.max_attempts = 5;
    settings.poll_interval = std::chrono::milliseconds(200);
    return settings;
}

// "event incident" of each request, in arrival order.
std::vector<std::string> arrivals(muster::test::webhook_receiver& receiver) {
    std::vector<std::string> out;
    for (const auto& request : receiver.requests()) {
        auto body = json::parse(request.body);
        out.push_back(std::string(body.at("event").as_string()) + " " +
                      std::to_string(body.at("incident").at("id").as_int64()));
    }
    return out;
}

}  // namespace

TEST_CASE("rows are delivered in id order, an incident's later rows after its earlier ones",
          "[notify]") {
    outbox_db box;
    muster::test::webhook_receiver receiver;
    std::int64_t now = t0;
    notifier worker(box.file, settings_with({hook_to("ops", receiver.url("/ops"))}),
                    [&] { return now; });
    box.enqueue(1, "trigger");
    box.enqueue(1, "resolve");
    box.enqueue(2, "trigger");

    CHECK(worker.run_once() == 2);  // the heads of incidents 1 and 2
    CHECK(worker.run_once() == 1);  // then incident 1's resolve
    CHECK(worker.run_once() == 0);
    CHECK(arrivals(receiver) == std::vector<std::string>{"trigger 1", "trigger 2", "resolve 1"});
    auto first = receiver.requests().front();
    CHECK(first.method == "POST");
    CHECK(first.target == "/ops");
    CHECK(first.headers["content-type"] == "application/json");
    CHECK(json::parse(first.body).at("webhook") == "ops");
    CHECK(box.delivery_of(1, "ops").delivered);
    CHECK(box.delivery_of(2, "ops").attempts == 1);
}

TEST_CASE("a 500 is retried after the backoff, and holds back the incident's next row",
          "[notify]") {
    outbox_db box;
    muster::test::webhook_receiver receiver;
    receiver.answer_next({500, 503});
    std::int64_t now = t0;
    notifier worker(
        box.file, settings_with({hook_to("ops", receiver.url())}), [&] { return now; },
        [] { return 1.0; });
    auto trigger = box.enqueue(5, "trigger");
    box.enqueue(5, "resolve");

    CHECK(worker.run_once() == 1);
    auto failed = box.delivery_of(trigger, "ops");
    CHECK(failed.attempts == 1);
    CHECK_FALSE(failed.delivered);
    CHECK(failed.next_attempt_at == t0 + 10);  // initial backoff, full jitter factor
    CHECK(failed.last_error == "HTTP 500: scripted failure 500");  // the first line only

    now = t0 + 9;  // not due yet, and the resolve must not overtake the trigger
    CHECK(worker.run_once() == 0);
    now = t0 + 10;
    CHECK(worker.run_once() == 1);
    CHECK(box.delivery_of(trigger, "ops").next_attempt_at == t0 + 10 + 20);  // doubled
    now = t0 + 30;
    CHECK(worker.run_once() == 1);  // the trigger, third attempt: 200
    CHECK(box.delivery_of(trigger, "ops").delivered);
    CHECK(box.delivery_of(trigger, "ops").attempts == 3);
    CHECK(worker.run_once() == 1);  // now the resolve
    CHECK(arrivals(receiver) ==
          std::vector<std::string>{"trigger 5", "trigger 5", "trigger 5", "resolve 5"});
}

TEST_CASE("Retry-After of a 429 is honoured when longer than the backoff", "[notify]") {
    outbox_db box;
    muster::test::webhook_receiver receiver;
    receiver.answer_next({429});
    receiver.set_answer_header("Retry-After", "120");
    std::int64_t now = t0;
    notifier worker(
        box.file, settings_with({hook_to("ops", receiver.url())}), [&] { return now; },
        [] { return 1.0; });
    auto row = box.enqueue(1, "trigger");
    CHECK(worker.run_once() == 1);
    CHECK(box.delivery_of(row, "ops").next_attempt_at == t0 + 120);
}

TEST_CASE("a 4xx is a permanent failure, the incident's next row goes on", "[notify]") {
    outbox_db box;
    muster::test::webhook_receiver receiver;
    receiver.answer_next({400});
    std::int64_t now = t0;
    notifier worker(box.file, settings_with({hook_to("ops", receiver.url())}), [&] { return now; });
    auto trigger = box.enqueue(3, "trigger");
    auto resolve = box.enqueue(3, "resolve");
    CHECK(worker.run_once() == 1);
    auto failed = box.delivery_of(trigger, "ops");
    CHECK(failed.failed);
    CHECK(failed.attempts == 1);
    CHECK(failed.last_error == "HTTP 400: scripted failure 400");
    CHECK(worker.run_once() == 1);
    CHECK(box.delivery_of(resolve, "ops").delivered);
    CHECK(worker.run_once() == 0);
}

TEST_CASE("after max_attempts a row is given up", "[notify]") {
    outbox_db box;
    muster::test::webhook_receiver receiver;
    receiver.set_default_status(502);
    std::int64_t now = t0;
    auto settings = settings_with({hook_to("ops", receiver.url())});
    settings.max_attempts = 3;
    notifier worker(box.file, settings, [&] { return now; });
    auto row = box.enqueue(1, "trigger");
    for (int i = 0; i < 3; ++i) {
        CHECK(worker.run_once() == 1);
        now += 1000;
    }
    CHECK(worker.run_once() == 0);
    CHECK(box.delivery_of(row, "ops").failed);
    CHECK(box.delivery_of(row, "ops").attempts == 3);
    CHECK(receiver.requests().size() == 3);
}

TEST_CASE("each webhook gets every row in its own format, independently", "[notify]") {
    outbox_db box;
    muster::test::webhook_receiver json_receiver;
    muster::test::webhook_receiver pager_receiver;
    muster::test::webhook_receiver slack_receiver;
    pager_receiver.answer_next({500});
    std::int64_t now = t0;
    notifier worker(box.file,
                    settings_with({hook_to("ops", json_receiver.url()),
                                   hook_to("pd", pager_receiver.url(), webhook_format::pagerduty),
                                   hook_to("chat", slack_receiver.url(), webhook_format::slack)}),
                    [&] { return now; });
    auto row = box.enqueue(9, "trigger");
    CHECK(worker.run_once() == 3);
    CHECK(box.delivery_of(row, "ops").delivered);
    CHECK_FALSE(box.delivery_of(row, "pd").delivered);
    CHECK(box.delivery_of(row, "chat").delivered);
    auto pd = json::parse(pager_receiver.requests().at(0).body);
    CHECK(pd.at("routing_key") == "rk-secret");
    CHECK(pd.at("dedup_key") == "muster-incident-9");
    CHECK(pd.at("payload").at("source") == "web-1");
    auto slack = json::parse(slack_receiver.requests().at(0).body);
    CHECK(std::string(slack.at("text").as_string()).find("[P2]") != std::string::npos);
}

TEST_CASE("a webhook added later does not get the rows from before it", "[notify]") {
    outbox_db box;
    muster::test::webhook_receiver receiver;
    box.enqueue(1, "trigger");
    box.enqueue(2, "trigger");
    std::int64_t now = t0;
    notifier worker(box.file, settings_with({hook_to("late", receiver.url())}),
                    [&] { return now; });
    CHECK(worker.run_once() == 0);
    box.enqueue(3, "trigger");
    CHECK(worker.run_once() == 1);
    CHECK(arrivals(receiver) == std::vector<std::string>{"trigger 3"});
}

TEST_CASE("rows pending when the worker stops are delivered by the next one", "[notify]") {
    outbox_db box;
    std::int64_t now = t0;
    // A port with nothing listening: every attempt fails to connect.
    auto dead = "http://127.0.0.1:" + std::to_string(muster::test::free_loopback_port()) + "/";
    {
        notifier first(box.file, settings_with({hook_to("ops", dead)}), [&] { return now; });
        box.enqueue(1, "trigger");
        box.enqueue(2, "trigger");
        box.enqueue(1, "resolve");
        // No answer at all ends the webhook's pass: one attempt, not one per incident.
        CHECK(first.run_once() == 1);
        CHECK(box.delivery_of(1, "ops").last_error.find("connecting") != std::string::npos);
    }
    box.enqueue(3, "trigger");  // while no worker runs
    muster::test::webhook_receiver receiver;
    now = t0 + 1000;
    notifier second(box.file, settings_with({hook_to("ops", receiver.url())}), [&] { return now; });
    second.start();
    REQUIRE(receiver.wait_for(4));
    second.stop();
    auto got = arrivals(receiver);
    std::sort(got.begin(), got.end());
    CHECK(got == std::vector<std::string>{"resolve 1", "trigger 1", "trigger 2", "trigger 3"});
    auto order = arrivals(receiver);
    auto at = [&](const std::string& what) {
        return std::find(order.begin(), order.end(), what) - order.begin();
    };
    CHECK(at("trigger 1") < at("resolve 1"));
}

TEST_CASE("the running worker is woken by poke and delivers", "[notify]") {
    outbox_db box;
    muster::test::webhook_receiver receiver;
    auto settings = settings_with({hook_to("ops", receiver.url())});
    settings.poll_interval = std::chrono::minutes(1);  // only a poke can wake it in time
    notifier worker(box.file, settings, [] { return t0; });
    worker.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let its first pass finish
    box.enqueue(1, "trigger");
    worker.poke();
    CHECK(receiver.wait_for(1));
    worker.stop();
}

TEST_CASE("https webhooks: the certificate is verified against ca_file", "[notify]") {
    muster::test::temp_dir certs;
    auto key = certs.path() + "/key.pem";
    auto cert = certs.path() + "/cert.pem";
    auto made = muster::test::run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                   "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
                                   cert, "-days", "2", "-subj", "/CN=muster-test", "-addext",
                                   "subjectAltName=IP:127.0.0.1"});
    REQUIRE(made.exit_code == 0);
    outbox_db box;
    muster::test::webhook_receiver receiver(muster::test::receiver_tls{cert, key});
    REQUIRE(receiver.url().starts_with("https://"));
    auto trusted = hook_to("trusted", receiver.url());
    trusted.ca_file = cert;
    auto untrusted = hook_to("untrusted", receiver.url());  // the system's CAs only
    std::int64_t now = t0;
    notifier worker(box.file, settings_with({trusted, untrusted}), [&] { return now; });
    auto row = box.enqueue(1, "trigger");
    CHECK(worker.run_once() == 2);
    CHECK(box.delivery_of(row, "trusted").delivered);
    auto refused = box.delivery_of(row, "untrusted");
    CHECK_FALSE(refused.delivered);
    CHECK(refused.last_error.find("certificate verify failed") != std::string::npos);
    CHECK(receiver.requests().size() == 1);
}

TEST_CASE("a huge Retry-After is capped at an hour", "[notify]") {
    outbox_db box;
    muster::test::webhook_receiver receiver;
    receiver.answer_next({429});
    receiver.set_answer_header("Retry-After", "99999999999");
    std::int64_t now = t0;
    notifier worker(
        box.file, settings_with({hook_to("ops", receiver.url())}), [&] { return now; },
        [] { return 1.0; });
    auto row = box.enqueue(1, "trigger");
    CHECK(worker.run_once() == 1);
    CHECK(box.delivery_of(row, "ops").next_attempt_at == t0 + 3600);
}
