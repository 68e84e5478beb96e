// muster-cmdb-bench: the admin API on a synthetic CMDB at fleet scale (issue 7 acceptance).
//
//   muster-cmdb-bench [--hosts N] [--packages N] [--runs N] [--db FILE] [--reuse]
//                     [--replicate-from T]
//
// Builds a CMDB of N hosts (default 10,000) with about 900 packages each through the store's
// own ingest (full reports in batches of 50, as the collector's group commit makes them), with
// variations between hosts: which packages, their versions, deb and rpm hosts, openssl spread
// around 3.0.2. Then times the admin API's handler (authentication, query, JSON) for the
// questions of the issue, each run many times, and prints a table and one JSON line with the
// median and p99 in milliseconds, plus database bytes per host. --reuse skips building when
// --db already holds a CMDB. Prints figures; asserts nothing about time.
// --replicate-from T: only the first T hosts go through ingest (slow into a large CMDB);
// the rest are copies of them made in SQL, each with its own CI id, hostname, identity, MAC,
// address and agent, so that 100,000 hosts take minutes rather than hours. The copies share
// their originals' packages, which the T originals already vary.
#include "collector/admin/admin_api.h"
#include "collector/admin/queries.h"
#include "collector/sqlite_store.h"
#include "common/crypto.h"
#include "common/inventory_state.h"
#include "common/sqlite.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace {

namespace json = boost::json;
namespace admin = muster::collector::admin;
using namespace muster::collector;
using clock_type = std::chrono::steady_clock;

constexpr std::int64_t bench_now = 1'764'460'800;
constexpr std::size_t batch_size = 50;
constexpr std::string_view admin_token = "bench-admin-token";

struct options {
    int hosts = 10'000;
    int packages = 900;
    int runs = 50;
    std::filesystem::path db;
    bool reuse = false;
    int replicate_from = 0;  // 0: every host through ingest
};

const char* const deb_openssl[] = {
    "1.1.1n-0+deb11u5", "1.1.1w-0+deb11u1", "3.0.2~rc1-1",      "3.0.2-0ubuntu1", "3.0.2",
    "3.0.1-1",          "3.0.11-1~deb12u2", "3.0.13-1~deb12u1", "3.0.9-1"};
const char* const rpm_openssl[] = {"3.0.1-43.el9", "1:3.0.7-24.el9", "3.0.2-5.el9",
                                   "1:1.1.1k-12.el8"};

// A host's inventory: packages drawn from a pool a little larger than each host's set, so
// the catalogue has more names than a host; versions differ between hosts in a few ways.
json::object inventory_for(int host, int packages, std::mt19937& random) {
    bool rpm = host % 10 == 7;
    json::object system{
        {"hostname", "host-" + std::to_string(host)},
        {"fqdn", "host-" + std::to_string(host) + ".example.org"},
        {"machine_id", muster::sha256_hex("m" + std::to_string(host)).substr(0, 32)},
        {"timezone", "UTC"},
        {"virtualization", "kvm"},
        {"container", "none"},
        {"tags", json::array{host % 3 == 0 ? "prod" : "staging"}}};
    json::object inventory{{"schema_version", 1}, {"system", system}};
    inventory["hardware"] = json::object{{"vendor", "QEMU"},
                                         {"product", "Standard PC"},
                                         {"serial", "SN" + std::to_string(host)},
                                         {"product_uuid", "uuid-" + std::to_string(host)}};
    inventory["os"] = rpm ? json::object{{"id", "rocky"},
                                         {"version_id", "9.3"},
                                         {"pretty_name", "Rocky Linux 9.3 (Blue Onyx)"}}
                          : json::object{{"id", "debian"},
                                         {"version_id", "12"},
                                         {"pretty_name", "Debian GNU/Linux 12 (bookworm)"}};
    inventory["memory"] = json::object{{"total_bytes", 8LL << 30}};
    char mac[18];
    std::snprintf(mac, sizeof mac, "52:54:00:%02x:%02x:%02x", (host >> 16) & 255, (host >> 8) & 255,
                  host & 255);
    json::object address{
        {"family", "inet"},
        {"address", "10." + std::to_string((host >> 16) & 255) + "." +
                        std::to_string((host >> 8) & 255) + "." + std::to_string(host & 255)},
        {"prefix", 16}};
    inventory["network"] = json::object{
        {"interfaces", json::array{json::object{{"name", "eth0"},
                                                {"mac", mac},
                                                {"type", "physical"},
                                                {"addresses", json::array{address}}}}}};
    json::array software;
    std::string source = rpm ? "rpm" : "deb";
    std::string arch = rpm ? "x86_64" : "amd64";
    const char* openssl = rpm ? rpm_openssl[random() % std::size(rpm_openssl)]
                              : deb_openssl[random() % std::size(deb_openssl)];
    software.push_back(json::object{{"name", "openssl"},
                                    {"version", openssl},
                                    {"arch", arch},
                                    {"source", source},
                                    {"size_bytes", 2'000'000}});
    int pool = packages + packages / 8;
    for (int p = 0, taken = 1; p < pool && taken < packages; ++p) {
        if (static_cast<int>(random() % pool) < pool - packages) continue;  // not on this host
        char name[32];
        std::snprintf(name, sizeof name, "pkg-%04d", p);
        auto version = std::to_string(1 + p % 7) + "." + std::to_string(p % 13) + "." +
                       std::to_string(random() % 4) + "-" + std::to_string(1 + host % 3);
        software.push_back(json::object{{"name", name},
                                        {"version", version},
                                        {"arch", arch},
                                        {"source", source},
                                        {"size_bytes", 1000 + p}});
        ++taken;
    }
    inventory["software"] = std::move(software);
    inventory["users"] = json::array{json::object{{"name", "root"}, {"uid", 0}, {"gid", 0}}};
    inventory["errors"] = json::array{};
    return inventory;
}

verified_report full_report(const std::string& agent_id, const json::object& inventory) {
    json::object document{{"protocol", 1},         {"agent_id", agent_id}, {"seq", 1},
                          {"sent_at", bench_now},  {"kind", "full"},       {"base_seq", 0},
                          {"inventory", inventory}};
    document["state_hash"] = muster::state_hash(muster::make_state(inventory));
    verified_report report;
    report.agent_id = agent_id;
    report.seq = 1;
    report.sent_at = bench_now;
    report.body_sha256 = muster::sha256_hex(agent_id);
    report.document = std::move(document);
    return report;
}

void build(cmdb_store& store, const options& opts) {
    std::mt19937 random(42);
    auto start = clock_type::now();
    std::vector<verified_report> batch;
    for (int host = 0; host < opts.hosts; ++host) {
        enrollment request;
        request.public_key = muster::sha256("bench-key-" + std::to_string(host));
        auto agent = store.enroll_agent(request, true, bench_now);
        batch.push_back(full_report(agent.agent_id, inventory_for(host, opts.packages, random)));
        if (batch.size() == batch_size || host + 1 == opts.hosts) {
            for (const auto& result : store.ingest(batch, bench_now)) {
                if (result.status != ingest_status::ok) {
                    throw std::runtime_error("ingest refused a report: " + result.message);
                }
            }
            batch.clear();
        }
        if ((host + 1) % 1000 == 0) {
            double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
            std::cerr << "built " << host + 1 << " hosts in " << static_cast<int>(seconds)
                      << " s\n";
        }
    }
}

// ----------------------------------------------------------------------------------------
// --replicate-from: copies of the ingested hosts, table by table.

// Host number h of a CI row whose id is `id` in copy k: ids are 1..T in the original.
std::string host_number(const std::string& id, int offset) {
    return "(" + id + " - 1 + " + std::to_string(offset) + ")";
}

std::string mac_of(const std::string& h) {
    return "printf('52:54:00:%02x:%02x:%02x', (" + h + " >> 16) & 255, (" + h + " >> 8) & 255, " +
           h + " & 255)";
}

std::string address_of(const std::string& h) {
    return "'10.' || ((" + h + " >> 16) & 255) || '.' || ((" + h + " >> 8) & 255) || '.' || (" + h +
           " & 255)";
}

// The value of `column` of `table` in copy k (CI ids shifted by offset), as SQL.
std::string copied_column(const std::string& table, const std::string& column, int k, int offset) {
    const std::string suffix = " || '-r" + std::to_string(k) + "'";
    const std::string shift = " + " + std::to_string(offset);
    bool is_cis = table == "cis";
    std::string ci = is_cis ? "id" : "ci_id";
    if ((is_cis && column == "id") || column == "ci_id" || column == "duplicate_of")
        return column + shift;
    if (is_cis && column == "hostname") return "'host-' || " + host_number(ci, offset);
    if (is_cis && column == "fqdn")
        return "'host-' || " + host_number(ci, offset) + " || '.example.org'";
    if (column == "primary_mac" || (table == "ci_interfaces" && column == "mac"))
        return "CASE WHEN " + column + " IS NULL THEN NULL ELSE " +
               mac_of(host_number(ci, offset)) + " END";
    if (table == "ci_addresses" && column == "address")
        return "CASE WHEN family = 'inet' AND address LIKE '10.%' THEN " +
               address_of(host_number(ci, offset)) + " ELSE address END";
    if (column == "public_key") return "randomblob(32)";
    for (const char* identity : {"agent_id", "current_agent_id", "machine_id", "serial",
                                 "product_uuid", "hw_serial", "hw_product_uuid"}) {
        if (column == identity) return column + suffix;
    }
    if (table == "agents" && column == "hostname") return column + suffix;
    return column;
}

std::vector<std::string> columns_of(muster::sqlite_database& db, const std::string& table) {
    std::vector<std::string> columns;
    auto info = db.prepare("SELECT name, pk FROM pragma_table_info(?1)");
    info.bind(1, table);
    while (info.step()) {
        // A rowid key of its own (ci_history's id) is given by the copy, not copied.
        if (table != "cis" && info.column_text(0) == "id" && info.column_int64(1) == 1) continue;
        columns.push_back(info.column_text(0));
    }
    return columns;
}

// Every table that holds per-host rows: the CIs, and those keyed by CI or agent.
std::vector<std::string> host_tables(muster::sqlite_database& db) {
    std::vector<std::string> tables;
    auto list = db.prepare(
        "SELECT m.name FROM sqlite_master m WHERE m.type = 'table' AND m.name NOT LIKE "
        "'sqlite_%' AND (m.name = 'cis' OR EXISTS (SELECT 1 FROM pragma_table_info(m.name) c "
        "WHERE c.name IN ('ci_id', 'agent_id'))) ORDER BY m.name = 'cis' DESC, m.name");
    while (list.step()) tables.push_back(list.column_text(0));
    return tables;
}

// The rows of the first `count` originals: by CI id, or by their agent (the originals are
// the first `originals` agents enrolled).
std::string originals_of(const std::string& table, const std::vector<std::string>& columns,
                         int originals, int count) {
    auto limit = std::to_string(count);
    if (table == "cis") return "id <= " + limit;
    if (std::find(columns.begin(), columns.end(), "ci_id") != columns.end())
        return "ci_id <= " + limit;
    return "agent_id IN (SELECT agent_id FROM agents WHERE rowid <= " + std::to_string(originals) +
           " AND ci_id <= " + limit + ")";
}

void replicate(const options& opts) {
    muster::sqlite_database db(opts.db);
    db.set_busy_timeout(60'000);
    db.exec("PRAGMA cache_size = -262144");
    std::vector<std::pair<std::string, std::vector<std::string>>> tables;
    for (auto& table : host_tables(db)) tables.emplace_back(table, columns_of(db, table));
    int originals = opts.replicate_from;
    auto start = clock_type::now();
    for (int k = 1; k * originals < opts.hosts; ++k) {
        int offset = k * originals;
        int count = std::min(originals, opts.hosts - offset);
        muster::sqlite_transaction transaction(db);
        for (const auto& [table, columns] : tables) {
            std::string names, values;
            for (const auto& column : columns) {
                names += (names.empty() ? "" : ", ") + column;
                values += (values.empty() ? "" : ", ") + copied_column(table, column, k, offset);
            }
            db.exec("INSERT INTO " + table + " (" + names + ") SELECT " + values + " FROM " +
                    table + " WHERE " + originals_of(table, columns, originals, count));
        }
        transaction.commit();
        double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
        std::cerr << "replicated up to " << offset + count << " hosts in "
                  << static_cast<int>(seconds) << " s\n";
    }
}

struct figure {
    std::string name;
    double median_ms = 0;
    double p99_ms = 0;
    double cpu_median_ms = 0;  // this process's CPU time: steadier on a shared machine
    std::size_t items = 0;
    double goal_ms = 0;
};

double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
    return values[std::min(index, values.size() - 1)];
}

figure measure(admin::admin_api& api, const std::string& name, double goal_ms, int runs,
               const std::function<std::string(int)>& target_of) {
    std::vector<double> times;
    std::vector<double> cpu_times;
    std::size_t items = 0;
    // One untimed call first: a serving collector is warm (page cache, statements, catalogue).
    for (int run = -1; run < runs; ++run) {
        http_request request{http::verb::get, target_of(run < 0 ? 0 : run), 11};
        request.set(http::field::authorization, "Bearer " + std::string(admin_token));
        auto start = clock_type::now();
        auto cpu_start = std::clock();
        auto response = api.handle(request);
        if (run >= 0) {
            times.push_back(
                std::chrono::duration<double, std::milli>(clock_type::now() - start).count());
            cpu_times.push_back(1000.0 * static_cast<double>(std::clock() - cpu_start) /
                                CLOCKS_PER_SEC);
        }
        if (response.result() != http::status::ok) {
            throw std::runtime_error(name + ": " + response.body());
        }
        if (run == 0) {
            auto body = json::parse(response.body()).as_object();
            auto* list = body.if_contains("items");
            items = list ? list->as_array().size() : 1;
        }
    }
    return {
        name,   percentile(times, 0.5), percentile(times, 0.99), percentile(cpu_times, 0.5), items,
        goal_ms};
}

options parse(int argc, char** argv) {
    options opts;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--hosts") {
            opts.hosts = std::stoi(next());
        } else if (arg == "--packages") {
            opts.packages = std::stoi(next());
        } else if (arg == "--runs") {
            opts.runs = std::stoi(next());
        } else if (arg == "--db") {
            opts.db = next();
        } else if (arg == "--replicate-from") {
            opts.replicate_from = std::stoi(next());
        } else if (arg == "--reuse") {
            opts.reuse = true;
        } else {
            throw std::invalid_argument("unknown argument " + arg);
        }
    }
    if (opts.hosts < 1 || opts.packages < 1 || opts.runs < 1) {
        throw std::invalid_argument("--hosts, --packages and --runs must be positive");
    }
    if (opts.replicate_from < 0 || opts.replicate_from > opts.hosts) {
        throw std::invalid_argument("--replicate-from must be between 0 (off) and --hosts");
    }
    if (opts.db.empty())
        opts.db = std::filesystem::temp_directory_path() / "muster-cmdb-bench.sqlite";
    return opts;
}

std::uintmax_t size_of(const std::filesystem::path& file) {
    std::error_code ec;
    auto size = std::filesystem::file_size(file, ec);
    return ec ? 0 : size;
}

}  // namespace

int main(int argc, char** argv) try {
    auto opts = parse(argc, argv);
    bool exists = std::filesystem::exists(opts.db);
    if (exists && !opts.reuse) {
        for (auto suffix : {"", "-wal", "-shm"}) std::filesystem::remove(opts.db.string() + suffix);
    }
    auto store = open_sqlite_store(opts.db);
    if (!(exists && opts.reuse)) {
        auto start = clock_type::now();
        auto ingested = opts;
        if (opts.replicate_from > 0) ingested.hosts = opts.replicate_from;
        build(*store, ingested);
        if (opts.replicate_from > 0) replicate(opts);
        std::cerr << "built the CMDB in "
                  << std::chrono::duration<double>(clock_type::now() - start).count() << " s\n";
    }
    auto queries = admin::open_sqlite_queries({opts.db, {}, 2});
    auto tokens = admin::open_sqlite_token_writer(opts.db);
    admin::admin_settings settings;
    settings.admin_token_sha256 = {muster::sha256_hex(admin_token)};
    settings.database = opts.db;
    admin::admin_api api(*queries, *tokens, *store, &store->incidents(), settings,
                         [] { return bench_now; });

    std::mt19937 random(7);
    int hosts = opts.hosts;
    std::vector<figure> figures;
    figures.push_back(
        measure(api, "hosts with openssl < 3.0.2 (all, limit 5000)", 100, opts.runs,
                [](int) { return "/api/v1/hosts?software=openssl&version=%3C3.0.2&limit=5000"; }));
    figures.push_back(
        measure(api, "hosts with openssl < 3.0.2 (first page)", 100, opts.runs,
                [](int) { return "/api/v1/hosts?software=openssl&version=%3C3.0.2"; }));
    figures.push_back(measure(api, "host detail (by id, ~900 packages)", 20, opts.runs, [&](int) {
        return "/api/v1/hosts/" + std::to_string(1 + random() % hosts);
    }));
    figures.push_back(measure(api, "host detail (by hostname)", 20, opts.runs, [&](int) {
        return "/api/v1/hosts/host-" + std::to_string(random() % hosts);
    }));
    figures.push_back(
        measure(api, "first page of hosts", 20, opts.runs, [](int) { return "/api/v1/hosts"; }));
    figures.push_back(
        measure(api, "a deep page of hosts (after id N-200)", 20, opts.runs, [&](int) {
            json::array key{"hosts", hosts - 200};
            auto text = muster::base64_encode(json::serialize(key));
            std::replace(text.begin(), text.end(), '+', '-');
            std::replace(text.begin(), text.end(), '/', '_');
            while (!text.empty() && text.back() == '=') text.pop_back();
            return "/api/v1/hosts?cursor=" + text;
        }));
    figures.push_back(measure(api, "software catalogue (first page)", 100, opts.runs,
                              [](int) { return "/api/v1/software"; }));
    // The catalogue is aggregated once and kept (collector/admin/catalogue.h); a collector
    // that just started, or a CMDB that changed, pays this once.
    {
        std::vector<double> cold;
        for (int run = 0; run < 3; ++run) {
            auto fresh = admin::open_sqlite_queries({opts.db, {}, 1, {}});
            auto start = clock_type::now();
            auto page = fresh->software({}, {});
            cold.push_back(
                std::chrono::duration<double, std::milli>(clock_type::now() - start).count());
        }
        figures.push_back({"software catalogue (cold: one full aggregation)", percentile(cold, 0.5),
                           percentile(cold, 0.99), 0, 100, 0});
    }
    figures.push_back(measure(api, "software versions of openssl", 100, opts.runs,
                              [](int) { return "/api/v1/software/openssl"; }));
    figures.push_back(measure(api, "hosts search by IP address", 100, opts.runs,
                              [](int) { return "/api/v1/hosts?search=10.0.3.7"; }));

    auto db_bytes = size_of(opts.db) + size_of(opts.db.string() + "-wal");
    std::printf("\nCMDB: %d hosts, ~%d packages each, %ju bytes (%ju per host)\n", hosts,
                opts.packages, db_bytes, db_bytes / static_cast<std::uintmax_t>(hosts));
    std::printf("%-48s %10s %10s %10s %6s %8s\n", "query (admin API handler)", "median ms",
                "p99 ms", "cpu ms", "items", "goal ms");
    json::array out;
    for (const auto& f : figures) {
        std::printf("%-48s %10.2f %10.2f %10.2f %6zu %8.0f\n", f.name.c_str(), f.median_ms,
                    f.p99_ms, f.cpu_median_ms, f.items, f.goal_ms);
        out.push_back(json::object{{"query", f.name},
                                   {"median_ms", f.median_ms},
                                   {"p99_ms", f.p99_ms},
                                   {"cpu_median_ms", f.cpu_median_ms},
                                   {"items", f.items},
                                   {"goal_ms", f.goal_ms}});
    }
    json::object summary{{"hosts", hosts},
                         {"packages_per_host", opts.packages},
                         {"runs", opts.runs},
                         {"db_bytes", db_bytes},
                         {"db_bytes_per_host", db_bytes / static_cast<std::uintmax_t>(hosts)},
                         {"queries", out}};
    std::printf("%s\n", json::serialize(summary).c_str());
    return 0;
} catch (const std::exception& e) {
    std::cerr << "muster-cmdb-bench: " << e.what() << "\n";
    return 1;
}
