// A micro-benchmark of ingest, hidden from ctest (tag [.]): run it by hand with
//   build/tests/test_store_benchmark_test '[.benchmark]'
// It prints figures and asserts only correctness, never times. For a profile of full reports
// alone: MUSTER_BENCH_HOSTS=20 MUSTER_BENCH_FULL_ONLY=1 valgrind --tool=callgrind ...
#include "collector/sqlite_store.h"
#include "common/sqlite.h"
#include "support/process.h"
#include "unit/collector/store_test_support.h"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iostream>

#include <catch2/catch.hpp>

TEST_CASE("ingest throughput", "[.benchmark]") {
    namespace json = boost::json;
    using clock = std::chrono::steady_clock;
    muster::test::temp_dir dir;
    auto db_file = std::filesystem::path(dir.path()) / "cmdb.sqlite";
    auto store = muster::collector::open_sqlite_store(db_file);
    // MUSTER_BENCH_HOSTS makes a smaller run for a profiler (callgrind).
    const char* hosts_env = std::getenv("MUSTER_BENCH_HOSTS");
    const int hosts = hosts_env ? std::atoi(hosts_env) : 400;
    constexpr std::size_t batch_size = 50;

    std::vector<std::string> ids;
    std::vector<json::object> inventories;
    std::vector<muster::collector::verified_report> fulls;
    for (int i = 0; i < hosts; ++i) {
        ids.push_back(
            store->enroll_agent(muster::test::enrollment_for(std::to_string(i)), true, 1).agent_id);
        muster::test::host_facts facts;
        facts.hostname = "host-" + std::to_string(i);
        facts.serial = "SN" + std::to_string(i);
        facts.product_uuid = "uuid-" + std::to_string(i);
        facts.machine_id = "machine-" + std::to_string(i);
        facts.packages.clear();
        for (int p = 0; p < 900; ++p) {
            facts.packages.emplace_back("package-" + std::to_string(p),
                                        "1." + std::to_string(p) + "-" + std::to_string(i % 3));
        }
        inventories.push_back(muster::test::make_inventory(facts));
        fulls.push_back(muster::test::full_report(ids.back(), 1, inventories.back()));
    }
    // Wall time and this process's CPU time: the machine is shared, so the CPU figure is the
    // steadier one for before/after comparisons; the wall figure includes the fsyncs.
    struct timing {
        double wall = 0;
        double cpu = 0;
    };
    auto run = [&](const std::vector<muster::collector::verified_report>& reports) {
        auto start = clock::now();
        auto cpu_start = std::clock();
        for (std::size_t i = 0; i < reports.size(); i += batch_size) {
            auto count = std::min(batch_size, reports.size() - i);
            for (const auto& result : store->ingest(std::span(&reports[i], count), 2000)) {
                REQUIRE(result.status == muster::collector::ingest_status::ok);
            }
        }
        return timing{std::chrono::duration<double>(clock::now() - start).count(),
                      static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC};
    };
    auto print = [&](std::string_view what, timing spent) {
        std::cout << what << ": " << static_cast<long>(hosts / spent.wall) << "/s wall, "
                  << static_cast<long>(hosts / spent.cpu) << "/s of CPU\n";
    };
    auto full_seconds = run(fulls);
    // MUSTER_BENCH_FULL_ONLY stops here, so that a profile shows full reports alone.
    if (std::getenv("MUSTER_BENCH_FULL_ONLY")) {
        print("full reports (900 packages, new hosts)", full_seconds);
        return;
    }

    std::vector<muster::collector::verified_report> unchanged;
    std::vector<muster::collector::verified_report> one_upgrade;
    std::vector<muster::collector::verified_report> two_upgrades;
    for (int i = 0; i < hosts; ++i) {
        unchanged.push_back(
            muster::test::delta_report(ids[i], 2, 1, inventories[i], inventories[i]));
        auto one = inventories[i];
        one["software"].as_array()[7].as_object()["version"] = "9.9-9";
        one_upgrade.push_back(muster::test::delta_report(ids[i], 3, 2, inventories[i], one));
        // Two packages far apart in the state, so that they live in different blocks.
        auto two = one;
        two["software"].as_array()[100].as_object()["version"] = "9.9-9";
        two["software"].as_array()[800].as_object()["version"] = "9.9-9";
        two_upgrades.push_back(muster::test::delta_report(ids[i], 4, 3, one, two));
    }
    auto unchanged_seconds = run(unchanged);
    auto one_upgrade_seconds = run(one_upgrade);
    auto two_upgrades_seconds = run(two_upgrades);
    print("full reports (900 packages, new hosts)", full_seconds);
    print("unchanged deltas", unchanged_seconds);
    print("deltas with one upgrade", one_upgrade_seconds);
    print("deltas with two upgrades", two_upgrades_seconds);
    auto wal = std::filesystem::path(db_file.string() + "-wal");
    std::cout << "database bytes per host (file + WAL): "
              << (std::filesystem::file_size(db_file) +
                  (std::filesystem::exists(wal) ? std::filesystem::file_size(wal) : 0)) /
                     hosts
              << "\n";
    // The same after a checkpoint, without the free pages: what a host costs at rest.
    muster::sqlite_database reader(db_file);
    reader.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    auto pages = reader.prepare(
        "SELECT (page_count - freelist_count) * page_size "
        "FROM pragma_page_count, pragma_freelist_count, pragma_page_size");
    REQUIRE(pages.step());
    std::cout << "database bytes per host (checkpointed, used pages): "
              << pages.column_int64(0) / hosts << "\n";
    auto tables = reader.prepare(
        "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 8");
    while (tables.step()) {
        std::cout << "  " << tables.column_text(0) << ": " << tables.column_int64(1) / hosts
                  << " bytes per host\n";
    }
}
