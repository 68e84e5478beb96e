// muster-ingest-bench: the collector's report path in one process, without sockets, for
// instruction counts (callgrind) and allocation profiles (heaptrack) that a busy machine does
// not blur. Reports are built by the load generator's own code (tests/bench/loadgen/fleet.h),
// so they are byte for byte what muster-loadgen sends; each then goes through what the
// collector does with a POST /api/v1/reports: the agent's lookup and signature check,
// open_report and the store's prepare (an I/O thread's part), then store.ingest in batches of
// --batch (the writer's).
//
//   muster-ingest-bench --db FILE [--skip M] [--hosts N] [--batch B] [--churn K]
//
// Hosts M..M+N-1 enroll and send a full report each, then K rounds of deltas upgrading three
// packages. --skip M assumes FILE already holds hosts 0..M-1 (a copy of an earlier run's
// database), so a profile can measure ingest into a large CMDB. For callgrind, collect the
// measured phases only: --toggle-collect='*run_phase*'. --churn 0 gives the full reports'
// instructions alone (total over N); the deltas' are the difference with --churn K, over N*K.
//
// Figures printed: per phase, reports and CPU seconds (this thread's) of the front part and
// of ingest, the wall seconds of ingest (commits wait for the disk), and the bytes ingest
// wrote (write(2) calls, /proc/self/io wchar: the WAL, and the checkpoints into the database).
// Errors (a report not answered ok) stop the run with exit status 1.
#include "collector/report_verifier.h"
#include "collector/sqlite_store.h"
#include "tests/bench/loadgen/fleet.h"

#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace muster;
using muster::collector::cmdb_store;
using muster::collector::verified_report;

struct options {
    std::string db;
    std::size_t skip = 0;
    std::size_t hosts = 50;
    std::size_t batch = 64;
    std::size_t churn = 1;
};

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (i + 1 >= argc) throw std::invalid_argument(std::string(arg) + " needs a value");
        std::string value = argv[++i];
        if (arg == "--db") {
            o.db = value;
        } else if (arg == "--skip") {
            o.skip = std::stoul(value);
        } else if (arg == "--hosts") {
            o.hosts = std::stoul(value);
        } else if (arg == "--batch") {
            o.batch = std::stoul(value);
        } else if (arg == "--churn") {
            o.churn = std::stoul(value);
        } else {
            throw std::invalid_argument("unknown option " + std::string(arg));
        }
    }
    if (o.db.empty() || o.batch == 0) throw std::invalid_argument("--db FILE is required");
    return o;
}

double thread_cpu() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

double wall_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Bytes this process has passed to write(2) and its kin so far.
double bytes_written() {
    std::ifstream io("/proc/self/io");
    std::string name;
    double value = 0;
    while (io >> name >> value) {
        if (name == "wchar:") return value;
    }
    return 0;
}

struct phase_cpu {
    double front = 0;
    double ingest = 0;
    double ingest_wall = 0;
    double written = 0;
};

// What an I/O thread does before the queue: the agent's lookup, the signature, open_report,
// the store's prepare.
verified_report open_one(cmdb_store& store, const loadgen::prepared_request& request,
                         const std::string& agent_id) {
    auto agent = store.find_agent(agent_id);
    if (!agent || !collector::signature_valid(*agent, request.signature, request.body)) {
        throw std::runtime_error("a report of agent " + agent_id + " does not verify");
    }
    auto opened = collector::open_report(agent_id, request.body, collector::report_rules{},
                                         static_cast<std::int64_t>(std::time(nullptr)));
    if (auto* refused = std::get_if<collector::refusal>(&opened)) {
        throw std::runtime_error("open_report refused: " + refused->message);
    }
    auto& verified = std::get<verified_report>(opened);
    store.prepare(verified);
    return std::move(verified);
}

// Not inlined, so that callgrind can collect it alone.
[[gnu::noinline]] void run_phase(cmdb_store& store, loadgen::fleet& agents,
                                 const std::vector<loadgen::prepared_request>& requests,
                                 std::size_t batch, phase_cpu& cpu) {
    for (std::size_t i = 0; i < requests.size(); i += batch) {
        std::vector<verified_report> reports;
        double start = thread_cpu();
        for (std::size_t j = i; j < std::min(requests.size(), i + batch); ++j) {
            reports.push_back(
                open_one(store, requests[j], agents.agent(requests[j].agent).agent_id));
        }
        double opened = thread_cpu();
        double wall = wall_seconds();
        double written = bytes_written();
        auto results = store.ingest(reports, static_cast<std::int64_t>(std::time(nullptr)));
        cpu.front += opened - start;
        cpu.ingest += thread_cpu() - opened;
        cpu.ingest_wall += wall_seconds() - wall;
        cpu.written += bytes_written() - written;
        for (const auto& result : results) {
            if (result.status != collector::ingest_status::ok) {
                throw std::runtime_error("ingest refused a report: " + result.message);
            }
        }
    }
}

void print(std::string_view phase, std::size_t count, const phase_cpu& cpu) {
    auto per = [&](double seconds) { return seconds > 0 ? count / seconds : 0.0; };
    std::cout << phase << ": " << count << " reports; CPU s front " << cpu.front << " ("
              << per(cpu.front) << "/s), ingest " << cpu.ingest << " (" << per(cpu.ingest)
              << "/s), together " << per(cpu.front + cpu.ingest) << "/s; ingest wall "
              << cpu.ingest_wall << " s (" << per(cpu.ingest_wall) << "/s), "
              << (count ? cpu.written / static_cast<double>(count) : 0.0)
              << " bytes written each\n";
}

void run(const options& o) {
    auto store = collector::open_sqlite_store(o.db);
    loadgen::fleet agents(loadgen::fleet_shape{}, o.skip + o.hosts, "token", 9);
    std::vector<loadgen::prepared_request> fulls;
    for (std::size_t i = o.skip; i < o.skip + o.hosts; ++i) {
        auto facts = agents.enroll_request(i);
        auto parsed = boost::json::parse(facts.body).as_object().at("facts").as_object();
        collector::enrollment request;
        request.public_key = agents.agent(i).key.public_raw();
        request.hostname = parsed.at("hostname").as_string();
        request.machine_id = parsed.at("machine_id").as_string();
        request.product_uuid = parsed.at("product_uuid").as_string();
        request.serial = parsed.at("serial").as_string();
        agents.agent(i).agent_id = store->enroll_agent(request, true, 1).agent_id;
        fulls.push_back(agents.full_report(i));
    }
    phase_cpu full_cpu;
    run_phase(*store, agents, fulls, o.batch, full_cpu);
    print("full (new hosts)", fulls.size(), full_cpu);
    fulls.clear();

    phase_cpu churn_cpu;
    std::size_t churned = 0;
    for (std::size_t round = 0; round < o.churn; ++round) {
        std::vector<loadgen::prepared_request> deltas;
        for (std::size_t i = o.skip; i < o.skip + o.hosts; ++i) {
            deltas.push_back(agents.churn_delta(i));
        }
        run_phase(*store, agents, deltas, o.batch, churn_cpu);
        churned += deltas.size();
    }
    print("churn (3 upgrades)", churned, churn_cpu);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        run(parse(argc, argv));
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "muster-ingest-bench: " << e.what() << "\n";
        return 1;
    }
}
