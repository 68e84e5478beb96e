#pragma once
// The collector's metrics, rendered for GET /metrics in the Prometheus text exposition format
// 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// A metrics_registry holds families: counters (with labels), histograms (fixed buckets, no
// labels) and gauges whose samples a callback produces at scrape time (so a scrape reads the
// CMDB once instead of every writer keeping gauges up to date). Every member function is
// thread-safe; counters and histograms take a short mutex, never held while a callback runs.
//
// Error policy: registering a family twice or with an invalid metric or label name throws
// std::invalid_argument (a programming error, found at start-up); incrementing and rendering
// never throw but std::bad_alloc. A gauge callback that throws yields no samples for that
// family on that scrape, and a "# muster: <name> unavailable" comment instead.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace muster::collector {

// Label values in the order of the family's label names.
using label_values = std::vector<std::string>;

struct gauge_sample {
    label_values labels;
    double value = 0;
};

class counter_family {
  public:
    explicit counter_family(std::vector<std::string> label_names)
        : label_names_(std::move(label_names)) {}
    // Adds `by` (>= 0; negative amounts are ignored: counters only go up) to the series with
    // these label values; a wrong number of values is ignored too (never throws on hot paths).
    void inc(const label_values& labels = {}, double by = 1);
    double value(const label_values& labels = {}) const;
    // Every series so far, by label values (a copy: rendering does not hold the lock).
    std::map<label_values, double> snapshot() const;

  private:
    std::vector<std::string> label_names_;
    mutable std::mutex mutex_;
    std::map<label_values, double> series_;
};

class histogram {
  public:
    // Upper bounds, strictly increasing; +Inf is implied.
    explicit histogram(std::vector<double> bounds);
    void observe(double value);

    struct snapshot {
        std::vector<double> bounds;
        std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
        double sum = 0;
        std::uint64_t count = 0;
    };
    snapshot read() const;

  private:
    std::vector<double> bounds_;
    mutable std::mutex mutex_;
    std::vector<std::uint64_t> counts_;  // per bucket (not cumulative), last is +Inf
    double sum_ = 0;
    std::uint64_t count_ = 0;
};

class metrics_registry {
  public:
    counter_family& add_counter(std::string name, std::string help,
                                std::vector<std::string> label_names = {});
    histogram& add_histogram(std::string name, std::string help, std::vector<double> bounds);
    void add_gauge(std::string name, std::string help, std::vector<std::string> label_names,
                   std::function<std::vector<gauge_sample>()> collect);

    // The whole exposition, families in registration order, ending with a newline.
    std::string render() const;

  private:
    enum class kind { counter, histogram, gauge };
    struct family {
        std::string name;
        std::string help;
        kind type;
        std::vector<std::string> label_names;
        std::unique_ptr<counter_family> counter;
        std::unique_ptr<histogram> hist;
        std::function<std::vector<gauge_sample>()> collect;
    };
    family& add(std::string name, std::string help, kind type,
                std::vector<std::string> label_names);

    mutable std::mutex mutex_;  // guards families_ (the list, not the values)
    std::vector<std::unique_ptr<family>> families_;
};

// Prometheus text format escaping: HELP text escapes \ and newline; label values also ".
std::string escape_help(std::string_view text);
std::string escape_label_value(std::string_view text);
// A sample value: integers without a fraction, +Inf, -Inf, NaN as Prometheus spells them.
std::string format_value(double value);

// What the CMDB says at scrape time, for the gauges.
struct cmdb_gauges {
    std::map<std::string, double> hosts_by_state;  // active, stale, retired (all present)
    std::map<std::string, double> open_incidents_by_priority;  // P1..P4 (all present)
    double notifications_pending = 0;
};

// Reads the gauges with a short read-only connection to the CMDB file. Tables a migration has
// not made yet count as empty. Throws sqlite_error when the file cannot be read.
cmdb_gauges read_cmdb_gauges(const std::filesystem::path& db);

// The collector's own metrics, registered in one registry:
//   muster_reports_received_total            counter
//   muster_reports_refused_total{reason}     counter (reason: the ingest_status or HTTP error code)
//   muster_ingest_seconds                    histogram (seconds from receipt to durable ack)
//   muster_hosts{state}                      gauge
//   muster_incidents_open{priority}          gauge
//   muster_notifications_pending             gauge
class collector_metrics {
  public:
    // `gauges` is called once per scrape (e.g. [path] { return read_cmdb_gauges(path); }).
    explicit collector_metrics(std::function<cmdb_gauges()> gauges);

    void report_received() { received_.inc(); }
    void report_refused(std::string_view reason) { refused_.inc({std::string(reason)}); }
    void ingest_latency(double seconds) { ingest_.observe(seconds); }

    // Calls the gauges callback once, then renders every family.
    std::string render() const;

  private:
    std::function<cmdb_gauges()> gauges_;
    mutable std::mutex scrape_mutex_;  // one scrape at a time: they share scraped_
    mutable cmdb_gauges scraped_;
    mutable bool scraped_ok_ = false;
    metrics_registry registry_;
    counter_family& received_;
    counter_family& refused_;
    histogram& ingest_;
};

}  // namespace muster::collector
