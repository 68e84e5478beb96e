// muster-loadgen: many simulated agents against a running collector, over real TLS.
// Exit codes: 0 every request acknowledged (or, with --until-killed, the run ended when the
// collector went away), 1 some requests failed, 2 usage error.
#include "tests/bench/loadgen/options.h"
#include "tests/bench/loadgen/runner.h"

#include "common/file.h"

#include <exception>
#include <iostream>

namespace {

using namespace muster::loadgen;

// Failures a killed collector leaves behind are expected in an --until-killed run.
bool only_connection_errors(const run_summary& s) {
    for (const auto& p : s.phases) {
        for (const auto& [kind, count] : p.errors) {
            if (kind.rfind("network: ", 0) != 0 && kind.rfind("connect: ", 0) != 0) return false;
        }
    }
    return true;
}

bool no_errors(const run_summary& s) {
    for (const auto& p : s.phases)
        if (!p.errors.empty()) return false;
    return true;
}

int run(const options& opts) {
    auto outcome = run_load(opts);
    print_table(std::cout, outcome.summary);
    if (!opts.json_file.empty()) {
        auto text = boost::json::serialize(to_json(outcome.summary)) + "\n";
        if (auto written = muster::write_file_atomic(opts.json_file, text, 0644); !written) {
            std::cerr << "muster-loadgen: cannot write " << opts.json_file << ": "
                      << written.error().message() << "\n";
            return 1;
        }
    }
    if (outcome.collector_went_away) {
        std::cerr << "muster-loadgen: the collector went away; run ended\n";
        return opts.until_killed && only_connection_errors(outcome.summary) ? 0 : 1;
    }
    return no_errors(outcome.summary) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        auto opts = parse_options(std::vector<std::string>(argv + 1, argv + argc));
        if (!opts) {
            std::cout << usage_text;
            return 0;
        }
        return run(*opts);
    } catch (const usage_error& e) {
        std::cerr << "muster-loadgen: " << e.what() << "\n" << usage_text;
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "muster-loadgen: " << e.what() << "\n";
        return 1;
    }
}
