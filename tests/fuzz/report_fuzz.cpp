// Fuzz target: a report as the collector takes it once its signature is verified
// (collector/report_verifier.cpp open_report: gzip, JSON, envelope), the delta application
// of common/inventory_state.cpp, and the store's ingest (collector/sqlite_store.cpp) into a
// real SQLite CMDB, for an agent whose state is a known full report (seq 1).
//
// The input is the JSON text of the report. Two placeholders let the fuzzer reach what it
// cannot forge: "@AGENT@" becomes the agent's id, and a "state_hash" of "@HASH@" in a full
// report becomes the hash of its inventory.
#include "collector/report_verifier.h"
#include "collector/sqlite_store.h"
#include "common/crypto.h"
#include "common/gzip.h"
#include "common/inventory_state.h"
#include "tests/fuzz/fuzz_support.h"

#include <boost/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace {

using namespace muster;
using namespace muster::collector;
namespace json = boost::json;

constexpr std::int64_t now = 1'764'000'000;

json::object base_inventory() {
    return json::parse(R"({"schema_version": 1,
        "system": {"hostname": "fuzz-1", "machine_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"},
        "hardware": {"serial": "SN-1", "product_uuid": "4c4c4544-0042-3510-8051-b7c04f4e4a32"},
        "software": [{"source": "deb", "name": "bash", "arch": "amd64", "version": "5.2"},
                     {"source": "deb", "name": "zsh", "arch": "amd64", "version": "5.9"}],
        "users": [{"name": "root", "uid": 0}],
        "listening_ports": [{"protocol": "tcp", "address": "0.0.0.0", "port": 22}]})")
        .as_object();
}

const json::object& base_state() {
    static const json::object state = make_state(base_inventory());
    return state;
}

// A CMDB file per process, started afresh now and then so that it stays small.
class cmdb {
  public:
    cmdb_store& store() {
        if (!store_ || ++uses_ > 200) reopen();
        return *store_;
    }

  private:
    void reopen() {
        store_.reset();
        auto file = fuzz::scratch().path() / "cmdb.sqlite";
        for (auto suffix : {"", "-wal", "-shm"}) std::remove((file.string() + suffix).c_str());
        store_ = open_sqlite_store(file);
        uses_ = 0;
    }
    std::unique_ptr<cmdb_store> store_;
    int uses_ = 0;
};

void fail(const char* what) {
    std::fprintf(stderr, "%s\n", what);
    std::abort();
}

verified_report opened(std::string_view agent_id, const json::object& document) {
    auto result = open_report(agent_id, gzip_compress(json::serialize(document), 1), {}, now);
    if (!std::holds_alternative<verified_report>(result)) fail("the known full report is refused");
    return std::get<verified_report>(std::move(result));
}

// A new active agent whose stored state is base_inventory() at seq 1.
std::string agent_with_known_state(cmdb_store& store) {
    enrollment request;
    request.public_key = ed25519_key::generate().public_raw();
    auto agent = store.enroll_agent(request, true, now);
    json::object first{{"protocol", 1},
                       {"agent_id", agent.agent_id},
                       {"seq", 1},
                       {"sent_at", now},
                       {"kind", "full"},
                       {"base_seq", 0},
                       {"state_hash", state_hash(base_state())},
                       {"inventory", base_inventory()}};
    auto report = opened(agent.agent_id, first);
    auto results = store.ingest(std::span(&report, 1), now);
    if (results.at(0).status != ingest_status::ok) fail("the known full report is not stored");
    return agent.agent_id;
}

std::string with_placeholders(std::string text, const std::string& agent_id) {
    for (auto at = text.find("@AGENT@"); at != std::string::npos; at = text.find("@AGENT@", at))
        text.replace(at, 7, agent_id);
    boost::system::error_code ec;
    auto value = json::parse(text, ec);
    if (ec || !value.is_object()) return text;
    auto& document = value.as_object();
    auto* hash = document.if_contains("state_hash");
    auto* inventory = document.if_contains("inventory");
    if (!hash || *hash != "@HASH@" || !inventory || !inventory->is_object()) return text;
    try {
        *hash = state_hash(make_state(inventory->as_object()));
    } catch (const std::invalid_argument&) {
        return text;  // a floating point number where the hash needs canonical JSON
    }
    return json::serialize(document);
}

// What a delta does to the base state, and the round trip of a full inventory: the changes
// between the base state and its state must rebuild that state exactly.
void check_state_functions(const json::object& document) {
    if (const auto* changes = document.if_contains("changes")) {
        (void)apply_changes(base_state(), *changes);
    }
    const auto* inventory = document.if_contains("inventory");
    if (!inventory || !inventory->is_object()) return;
    try {
        auto state = make_state(inventory->get_object());
        auto applied = apply_changes(base_state(), compute_changes(base_state(), state));
        if (!applied || state_hash(*applied) != state_hash(state))
            fail("apply_changes(a, compute_changes(a, b)) is not b");
    } catch (const std::invalid_argument&) {
        // Documented: a floating point number cannot be written as canonical JSON.
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static cmdb db = [] {
        fuzz::log_to_scratch_file();
        return cmdb();
    }();
    auto& store = db.store();
    auto agent_id = agent_with_known_state(store);
    auto text = with_placeholders(std::string(fuzz::as_text(data, size)), agent_id);
    report_rules rules;
    rules.max_decompressed = 1 << 20;
    auto result = open_report(agent_id, gzip_compress(text, 1), rules, now);
    auto* report = std::get_if<verified_report>(&result);
    if (!report) return 0;
    check_state_functions(report->document);
    (void)store.ingest(std::span(report, 1), now);
    return 0;
}
