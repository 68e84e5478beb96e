#include "collector/sqlite_store.h"

#include "collector/agent_state.h"
#include "collector/ci_update.h"
#include "collector/incidents/engine.h"
#include "collector/incidents/sqlite_incidents.h"
#include "collector/migrations.h"
#include "collector/statement_cache.h"
#include "collector/wal_checkpointer.h"
#include "common/canonical_json.h"
#include "common/crypto.h"
#include "common/inventory_state.h"
#include "common/sqlite.h"

#include <sqlite3.h>

#include <exception>
#include <mutex>
#include <optional>
#include <set>

namespace muster::collector {

namespace {

namespace json = boost::json;

constexpr int busy_timeout_ms = 10'000;
constexpr std::size_t agent_id_bytes = 16;

// A report that does not follow the protocol; caught in ingest_one and answered, never
// propagated.
struct report_refused {
    ingest_status status;
    std::string message;
};

ingest_result refused(ingest_status status, std::string message) {
    return ingest_result{status, {}, std::move(message)};
}

void configure_connection(sqlite_database& db) {
    db.set_busy_timeout(busy_timeout_ms);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("PRAGMA cache_size = -65536");
    db.exec("PRAGMA temp_store = MEMORY");
}

agent_record read_agent(sqlite_statement& select) {
    agent_record agent;
    agent.agent_id = select.column_text(0);
    agent.public_key = select.column_blob(1);
    agent.status = agent_status_from_string(select.column_text(2)).value_or(agent_status::revoked);
    agent.last_seq = select.column_int64(3);
    agent.last_body_sha256 = select.column_text(4);
    agent.last_ack = select.column_text(5);
    if (!select.column_is_null(6)) agent.ci_id = select.column_int64(6);
    return agent;
}

constexpr std::string_view agent_columns =
    "agent_id, public_key, status, last_seq, last_body_sha256, last_ack, ci_id, enrolled_at";

enum class agent_lookup { by_id, by_public_key };

std::optional<agent_record> select_agent(statement_cache& sql, agent_lookup lookup,
                                         std::string_view value,
                                         std::int64_t* enrolled_at = nullptr) {
    bool by_id = lookup == agent_lookup::by_id;
    auto select = sql("SELECT " + std::string(agent_columns) + " FROM agents WHERE " +
                      (by_id ? "agent_id = ?1" : "public_key = ?1"));
    if (by_id) {
        select->bind(1, value);
    } else {
        select->bind_blob(1, value);  // stored as a BLOB, which never equals TEXT
    }
    if (!select->step()) return std::nullopt;
    if (enrolled_at) *enrolled_at = select->column_int64(7);
    return read_agent(*select);
}

// ----------------------------------------------------------------------------------------
// Reading the document (docs/protocol.md, "Reports"). Everything is checked; nothing throws.

const json::value* member(const json::object& object, std::string_view name) {
    return object.if_contains(name);
}

std::int64_t required_int(const json::object& document, std::string_view name) {
    auto* value = member(document, name);
    if (!value || !value->is_int64()) {
        if (value && value->is_uint64()) {
            throw report_refused{ingest_status::malformed, std::string(name) + " is too large"};
        }
        throw report_refused{ingest_status::malformed,
                             std::string(name) + " is missing or not an integer"};
    }
    return value->get_int64();
}

std::string_view required_string(const json::object& document, std::string_view name) {
    auto* value = member(document, name);
    if (!value || !value->is_string()) {
        throw report_refused{ingest_status::malformed,
                             std::string(name) + " is missing or not a string"};
    }
    return value->get_string();
}

bool is_hex_sha256(std::string_view text) {
    if (text.size() != 64) return false;
    for (char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

std::string make_ack(std::int64_t seq, std::string_view hash) {
    json::object ack;
    ack["status"] = "ok";
    ack["seq"] = seq;
    ack["state_hash"] = hash;
    return json::serialize(ack);
}

// SAVEPOINT for one report of a batch: a refused report leaves nothing behind, the others
// of the batch still commit.
class savepoint {
  public:
    explicit savepoint(sqlite_database& db) : db_(db) { db_.exec("SAVEPOINT report"); }
    savepoint(const savepoint&) = delete;
    savepoint& operator=(const savepoint&) = delete;
    ~savepoint() {
        if (done_) return;
        try {
            db_.exec("ROLLBACK TO report");
            db_.exec("RELEASE report");
        } catch (...) {
            // The enclosing transaction's rollback undoes everything anyway.
        }
    }
    void release() {
        db_.exec("RELEASE report");
        done_ = true;
    }

  private:
    sqlite_database& db_;
    bool done_ = false;
};

// A full report's state and its hash, made on an I/O thread. The state points into the
// inventory it was made from; the writer uses it only for that same inventory (a document
// copied on the way, by a move assignment between arenas, has another).
struct prepared_full_state final : prepared_report {
    explicit prepared_full_state(const json::object& from)
        : inventory(&from), state(from), state_hash(state_hash_of(state.texts())) {}
    const json::object* inventory;
    full_state state;
    std::string state_hash;
};

// The prepared state of a full report whose inventory is `inventory`, if there is one.
const prepared_full_state* prepared_for(const verified_report& report,
                                        const json::object& inventory) {
    const auto* prepared = dynamic_cast<const prepared_full_state*>(report.prepared.get());
    return prepared && prepared->inventory == &inventory ? prepared : nullptr;
}

// ----------------------------------------------------------------------------------------

class sqlite_store final : public cmdb_store {
  public:
    sqlite_store(const std::filesystem::path& db_file,
                 const incidents::incident_settings& incident_settings)
        : incident_settings_(incident_settings),
          path_(db_file),
          writer_(db_file),
          write_sql_(writer_),
          reader_(db_file),
          read_sql_(reader_) {
        configure_connection(writer_);
        migrate(writer_);
        checkpointer_.emplace(path_, writer_.handle());
        reader_.set_busy_timeout(busy_timeout_ms);
        reader_.exec("PRAGMA query_only = ON");
    }

    std::optional<agent_record> find_agent(std::string_view agent_id) override {
        std::lock_guard lock(read_mutex_);
        return select_agent(read_sql_, agent_lookup::by_id, agent_id);
    }

    agent_record enroll_agent(const enrollment& request, bool auto_approve,
                              std::int64_t now) override {
        std::lock_guard lock(write_mutex_);
        sqlite_transaction transaction(writer_);
        if (auto known =
                select_agent(write_sql_, agent_lookup::by_public_key, request.public_key)) {
            return *known;
        }
        agent_record agent;
        agent.agent_id = random_token(agent_id_bytes);
        agent.public_key = request.public_key;
        agent.status = auto_approve ? agent_status::active : agent_status::pending;
        auto insert = write_sql_(
            "INSERT INTO agents (agent_id, public_key, status, enrolled_at, hostname, "
            "machine_id, product_uuid, serial) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        insert->bind(1, agent.agent_id);
        insert->bind_blob(2, agent.public_key);
        insert->bind(3, to_string(agent.status));
        insert->bind(4, now);
        insert->bind(5, request.hostname);
        insert->bind(6, request.machine_id);
        insert->bind(7, request.product_uuid);
        insert->bind(8, request.serial);
        insert->step();
        transaction.commit();
        return agent;
    }

    bool set_agent_status(std::string_view agent_id, agent_status status) override {
        std::lock_guard lock(write_mutex_);
        auto update = write_sql_("UPDATE agents SET status = ?2 WHERE agent_id = ?1");
        update->bind(1, agent_id);
        update->bind(2, to_string(status));
        update->step();
        return writer_.changes() > 0;
    }

    void prepare(verified_report& report) override;

    std::vector<ingest_result> ingest(std::span<const verified_report> batch,
                                      std::int64_t now) override {
        std::lock_guard lock(write_mutex_);
        // First without a savepoint per report: they cost some 5 % of a full report
        // (every page a report touches is copied to the sub-journal). A report refused after
        // it wrote something needs one, so the batch is then rolled back and run again with
        // them; in practice only a delta whose hash does not match after its changes does.
        try {
            return ingest_batch(batch, now, report_scope::batch);
        } catch (const rerun_with_savepoints&) {
        }
        return ingest_batch(batch, now, report_scope::savepoint);
    }

    std::size_t update_staleness(std::int64_t now, std::int64_t stale_after_seconds,
                                 std::int64_t retire_after_seconds) override;
    std::size_t prune_history(std::int64_t older_than, std::size_t max_rows) override;
    void backup_to(const std::filesystem::path& destination) override;

    void sweep_incidents(std::int64_t now) override { incidents_.sweep(now); }
    incidents::incident_store& incidents() override { return incidents_; }

  private:
    // How a refused report's writes are undone: by its own savepoint, or (batch) by rolling
    // back the whole batch, which ingest_one asks for by throwing rerun_with_savepoints.
    enum class report_scope { batch, savepoint };
    struct rerun_with_savepoints {};

    std::vector<ingest_result> ingest_batch(std::span<const verified_report> batch,
                                            std::int64_t now, report_scope scope) {
        std::vector<ingest_result> results;
        results.reserve(batch.size());
        sqlite_transaction transaction(writer_);
        for (const auto& report : batch) results.push_back(ingest_one(report, now, scope));
        transaction.commit();
        return results;
    }
    ingest_result ingest_one(const verified_report& report, std::int64_t now, report_scope scope);
    ingest_result apply_checked(const verified_report& report, const agent_record& agent,
                                std::int64_t enrolled_at, std::int64_t now);
    ingest_result apply_report(const verified_report& report, const agent_record& agent,
                               std::int64_t enrolled_at, std::int64_t now);

    incidents::incident_settings incident_settings_;
    std::filesystem::path path_;
    std::mutex write_mutex_;
    sqlite_database writer_;
    statement_cache write_sql_;
    std::optional<wal_checkpointer> checkpointer_;  // once migrated; stops before writer_ closes
    std::mutex read_mutex_;
    sqlite_database reader_;
    statement_cache read_sql_;
    incidents::sqlite_incidents incidents_{
        {write_mutex_, write_sql_}, {read_mutex_, read_sql_}, incident_settings_};
};

ingest_result sqlite_store::ingest_one(const verified_report& report, std::int64_t now,
                                       report_scope scope) {
    std::int64_t enrolled_at = 0;
    auto agent = select_agent(write_sql_, agent_lookup::by_id, report.agent_id, &enrolled_at);
    if (!agent) return refused(ingest_status::unknown_agent, "no agent with this id");
    if (agent->status == agent_status::revoked) {
        return refused(ingest_status::revoked, "the agent is revoked");
    }
    if (agent->status == agent_status::pending) {
        return refused(ingest_status::pending, "the agent is not approved yet");
    }
    std::optional<savepoint> own;
    if (scope == report_scope::savepoint) own.emplace(writer_);
    auto changes_before = sqlite3_total_changes64(writer_.handle());
    auto result = apply_checked(report, *agent, enrolled_at, now);
    if (result.status == ingest_status::ok) {
        if (own) own->release();
    } else if (!own && sqlite3_total_changes64(writer_.handle()) != changes_before) {
        throw rerun_with_savepoints{};
    }
    return result;
}

ingest_result sqlite_store::apply_checked(const verified_report& report, const agent_record& agent,
                                          std::int64_t enrolled_at, std::int64_t now) {
    try {
        return apply_report(report, agent, enrolled_at, now);
    } catch (const report_refused& refusal) {
        return refused(refusal.status, refusal.message);
    } catch (const sqlite_error&) {
        throw;
    } catch (const std::exception& error) {
        // Anything else (a float where canonical JSON has none, a value of the wrong type
        // deep in a section) came from the document.
        return refused(ingest_status::malformed, error.what());
    }
}

ingest_result sqlite_store::apply_report(const verified_report& report, const agent_record& agent,
                                         std::int64_t enrolled_at, std::int64_t now) {
    const auto& document = report.document;
    if (required_int(document, "protocol") != 1) {
        return refused(ingest_status::malformed, "unsupported protocol version");
    }
    if (required_string(document, "agent_id") != report.agent_id) {
        return refused(ingest_status::malformed, "agent_id differs from the sending agent");
    }
    auto seq = required_int(document, "seq");
    if (seq != report.seq) return refused(ingest_status::malformed, "seq differs from the header");
    if (seq <= 0) return refused(ingest_status::malformed, "seq must be positive");
    if (seq <= agent.last_seq) {
        if (seq == agent.last_seq && report.body_sha256 == agent.last_body_sha256) {
            return ingest_result{ingest_status::ok, agent.last_ack, {}};
        }
        return refused(ingest_status::replay, "seq " + std::to_string(seq) +
                                                  " was already applied (last applied " +
                                                  std::to_string(agent.last_seq) + ")");
    }
    auto kind = required_string(document, "kind");
    std::string claimed_hash(required_string(document, "state_hash"));
    if (!is_hex_sha256(claimed_hash)) {
        return refused(ingest_status::malformed, "state_hash is not lower-case hex SHA-256");
    }

    json::object old_sections;
    json::object new_sections;
    const full_state* state = nullptr;  // a full report's
    std::optional<prepared_full_state> made_here;
    const json::object* delta_changes = nullptr;
    bool is_full = kind == "full";
    if (is_full) {
        auto* inventory = member(document, "inventory");
        if (!inventory || !inventory->is_object()) {
            return refused(ingest_status::malformed, "a full report needs an inventory object");
        }
        // The texts are made once and serve the hash, the stored state and the tables;
        // usually on the I/O thread (prepare).
        auto* prepared = prepared_for(report, inventory->get_object());
        if (!prepared) prepared = &made_here.emplace(inventory->get_object());
        state = &prepared->state;
        // A full report's hash is computed from what it carries: a mismatch is a broken
        // agent, which a resync would only repeat.
        if (prepared->state_hash != claimed_hash) {
            return refused(ingest_status::malformed,
                           "state_hash does not match the inventory of this full report");
        }
        if (agent.ci_id) {
            // A CI already known compares its whole old state with the whole new one.
            old_sections = load_state(write_sql_, agent.agent_id);
            new_sections = state->every();
        }
        replace_state(write_sql_, agent.agent_id, state->texts());
    } else if (kind == "delta") {
        auto base_seq = required_int(document, "base_seq");
        auto header = load_state_header(write_sql_, agent.agent_id);
        if (!header || header->seq != base_seq) {
            return refused(ingest_status::resync,
                           "no stored state for base_seq " + std::to_string(base_seq));
        }
        auto* changes = member(document, "changes");
        if (!changes || !changes->is_object()) {
            return refused(ingest_status::malformed, "a delta needs a changes object");
        }
        if (changes->get_object().empty()) {
            if (header->state_hash != claimed_hash) {
                return refused(ingest_status::resync, "state hash differs from the stored state");
            }
        } else {
            // Rewrites the stored rows the changes name; the savepoint undoes it when the
            // result is refused below.
            auto applied = apply_stored_changes(write_sql_, agent.agent_id, changes->get_object());
            if (!applied) {
                return refused(
                    ingest_status::resync,
                    "the changes do not apply to the stored state: " + applied.error().message());
            }
            if (stored_state_hash(write_sql_, agent.agent_id) != claimed_hash) {
                return refused(ingest_status::resync,
                               "state hash after applying the changes differs");
            }
            old_sections = std::move(applied->old_sections);
            new_sections = std::move(applied->new_sections);
            delta_changes = &changes->get_object();
        }
    } else {
        return refused(ingest_status::malformed, "kind must be full or delta");
    }

    write_state_header(write_sql_, agent.agent_id, state_header{seq, claimed_hash});
    report_origin origin{agent.agent_id, enrolled_at, agent.ci_id, seq, now};
    auto ci_id = update_ci(write_sql_, origin, old_sections, new_sections, state, delta_changes);
    // Checks and incidents commit with the report (contracts C2).
    incidents::record_report(write_sql_, incident_settings_, ci_id, document, now);

    auto ack = make_ack(seq, claimed_hash);
    auto update = write_sql_(
        "UPDATE agents SET last_seq = ?2, last_body_sha256 = ?3, last_ack = ?4, "
        "last_report_at = ?5, ci_id = ?6 WHERE agent_id = ?1");
    update->bind(1, agent.agent_id);
    update->bind(2, seq);
    update->bind(3, report.body_sha256);
    update->bind(4, ack);
    update->bind(5, now);
    update->bind(6, ci_id);
    update->step();
    return ingest_result{ingest_status::ok, std::move(ack), {}};
}

void sqlite_store::prepare(verified_report& report) {
    auto* kind = member(report.document, "kind");
    auto* inventory = member(report.document, "inventory");
    if (!kind || *kind != "full" || !inventory || !inventory->is_object()) return;
    try {
        report.prepared = std::make_shared<const prepared_full_state>(inventory->get_object());
    } catch (const std::exception&) {
        // Content the state cannot hold: the writer makes it again and refuses the report.
    }
}

std::size_t sqlite_store::update_staleness(std::int64_t now, std::int64_t stale_after_seconds,
                                           std::int64_t retire_after_seconds) {
    std::lock_guard lock(write_mutex_);
    sqlite_transaction transaction(writer_);
    std::size_t changed = 0;
    auto mark = [&](std::string_view where, std::int64_t cutoff, std::string_view state) {
        auto history = write_sql_(
            "INSERT INTO ci_history (ci_id, time, section, key, change, old_value, new_value) "
            "SELECT id, ?1, 'ci', 'state', 'changed', state, ?3 FROM cis WHERE " +
            std::string(where));
        history->bind(1, now);
        history->bind(2, cutoff);
        history->bind(3, state);
        history->step();
        auto update = write_sql_("UPDATE cis SET state = ?3 WHERE " + std::string(where));
        update->bind(2, cutoff);
        update->bind(3, state);
        update->step();
        changed += static_cast<std::size_t>(writer_.changes());
    };
    // Retire first, so that a CI silent for longer than both windows goes straight to retired.
    mark("state != 'retired' AND last_seen < ?2", now - retire_after_seconds, "retired");
    mark("state = 'active' AND last_seen < ?2", now - stale_after_seconds, "stale");
    transaction.commit();
    return changed;
}

std::size_t sqlite_store::prune_history(std::int64_t older_than, std::size_t max_rows) {
    std::lock_guard lock(write_mutex_);
    auto remove = write_sql_(
        "DELETE FROM ci_history WHERE id IN "
        "(SELECT id FROM ci_history WHERE time < ?1 ORDER BY time LIMIT ?2)");
    remove->bind(1, older_than);
    remove->bind(2, static_cast<std::int64_t>(max_rows));
    remove->step();
    return static_cast<std::size_t>(writer_.changes());
}

void sqlite_store::backup_to(const std::filesystem::path& destination) {
    // Its own source connection: the copy runs in one read transaction, a consistent snapshot
    // that WAL lets the writer continue beside.
    sqlite_database source(path_, sqlite_open::read_only);
    source.set_busy_timeout(busy_timeout_ms);
    sqlite_database target(destination);
    struct backup_closer {
        void operator()(sqlite3_backup* backup) const noexcept { sqlite3_backup_finish(backup); }
    };
    std::unique_ptr<sqlite3_backup, backup_closer> backup(
        sqlite3_backup_init(target.handle(), "main", source.handle(), "main"));
    if (!backup) {
        throw sqlite_error(sqlite3_extended_errcode(target.handle()),
                           std::string("backup: ") + sqlite3_errmsg(target.handle()));
    }
    int rc = sqlite3_backup_step(backup.get(), -1);
    if (rc != SQLITE_DONE) {
        throw sqlite_error(rc, std::string("backup: ") + sqlite3_errstr(rc));
    }
    rc = sqlite3_backup_finish(backup.release());
    if (rc != SQLITE_OK) throw sqlite_error(rc, std::string("backup: ") + sqlite3_errstr(rc));
}

}  // namespace

std::unique_ptr<cmdb_store> open_sqlite_store(
    const std::filesystem::path& db_file, const incidents::incident_settings& incident_settings) {
    return std::make_unique<sqlite_store>(db_file, incident_settings);
}

}  // namespace muster::collector
