#include "collector/metrics.h"

#include "common/sqlite.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace muster::collector {

namespace {

bool valid_name(std::string_view name, bool allow_colon) {
    if (name.empty()) return false;
    auto ok = [&](char c, bool first) {
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                      (allow_colon && c == ':');
        return letter || (!first && c >= '0' && c <= '9');
    };
    for (std::size_t i = 0; i < name.size(); ++i)
        if (!ok(name[i], i == 0)) return false;
    return true;
}

// `{a="x",b="y"}` for these names and values, plus an optional extra pair (le for buckets).
std::string label_text(const std::vector<std::string>& names, const label_values& values,
                       std::string_view extra_name = {}, std::string_view extra_value = {}) {
    if (names.empty() && extra_name.empty()) return "";
    std::string out = "{";
    for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
        if (i > 0) out += ',';
        out += names[i] + "=\"" + escape_label_value(values[i]) + '"';
    }
    if (!extra_name.empty()) {
        if (!names.empty()) out += ',';
        out += std::string(extra_name) + "=\"" + escape_label_value(extra_value) + '"';
    }
    return out + "}";
}

void sample_line(std::string& out, std::string_view name, const std::string& labels, double value) {
    out += name;
    out += labels;
    out += ' ';
    out += format_value(value);
    out += '\n';
}

}  // namespace

// ----------------------------------------------------------------------------------------
// Text format helpers

std::string escape_help(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string escape_label_value(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '"')
            out += "\\\"";
        else
            out += c;
    }
    return out;
}

std::string format_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    char buffer[64];
    // Integral values up to 2^53 print exactly without an exponent; others in the shortest
    // form that reads back to the same double (0.005, not 0.0050000000000000001).
    if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
        std::snprintf(buffer, sizeof buffer, "%.0f", value);
        return buffer;
    }
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return ec == std::errc() ? std::string(buffer, end) : std::string("NaN");
}

// ----------------------------------------------------------------------------------------
// Counters and histograms

void counter_family::inc(const label_values& labels, double by) {
    if (!(by >= 0) || labels.size() != label_names_.size()) return;
    std::lock_guard lock(mutex_);
    series_[labels] += by;
}

std::map<label_values, double> counter_family::snapshot() const {
    std::lock_guard lock(mutex_);
    return series_;
}

double counter_family::value(const label_values& labels) const {
    std::lock_guard lock(mutex_);
    auto found = series_.find(labels);
    return found == series_.end() ? 0 : found->second;
}

histogram::histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1]))
            throw std::invalid_argument("histogram bounds must be finite and increasing");
    }
    counts_.assign(bounds_.size() + 1, 0);
}

void histogram::observe(double value) {
    if (std::isnan(value)) return;
    std::size_t bucket = 0;
    while (bucket < bounds_.size() && value > bounds_[bucket]) ++bucket;
    std::lock_guard lock(mutex_);
    ++counts_[bucket];
    sum_ += value;
    ++count_;
}

histogram::snapshot histogram::read() const {
    snapshot out;
    out.bounds = bounds_;
    std::lock_guard lock(mutex_);
    std::uint64_t running = 0;
    for (auto count : counts_) {
        running += count;
        out.cumulative.push_back(running);
    }
    out.sum = sum_;
    out.count = count_;
    return out;
}

// ----------------------------------------------------------------------------------------
// Registry

metrics_registry::family& metrics_registry::add(std::string name, std::string help, kind type,
                                                std::vector<std::string> label_names) {
    if (!valid_name(name, true)) throw std::invalid_argument("invalid metric name: " + name);
    for (const auto& label : label_names) {
        if (!valid_name(label, false) || label.rfind("__", 0) == 0 || label == "le")
            throw std::invalid_argument("invalid label name for " + name + ": " + label);
    }
    std::lock_guard lock(mutex_);
    for (const auto& existing : families_) {
        if (existing->name == name) throw std::invalid_argument("metric registered twice: " + name);
    }
    auto entry = std::make_unique<family>();
    entry->name = std::move(name);
    entry->help = std::move(help);
    entry->type = type;
    entry->label_names = std::move(label_names);
    families_.push_back(std::move(entry));
    return *families_.back();
}

counter_family& metrics_registry::add_counter(std::string name, std::string help,
                                              std::vector<std::string> label_names) {
    auto& entry = add(std::move(name), std::move(help), kind::counter, label_names);
    entry.counter = std::make_unique<counter_family>(std::move(label_names));
    return *entry.counter;
}

histogram& metrics_registry::add_histogram(std::string name, std::string help,
                                           std::vector<double> bounds) {
    auto made = std::make_unique<histogram>(std::move(bounds));  // validates before adding
    auto& entry = add(std::move(name), std::move(help), kind::histogram, {});
    entry.hist = std::move(made);
    return *entry.hist;
}

void metrics_registry::add_gauge(std::string name, std::string help,
                                 std::vector<std::string> label_names,
                                 std::function<std::vector<gauge_sample>()> collect) {
    auto& entry = add(std::move(name), std::move(help), kind::gauge, std::move(label_names));
    entry.collect = std::move(collect);
}

std::string metrics_registry::render() const {
    std::vector<const family*> list;
    {
        std::lock_guard lock(mutex_);
        for (const auto& entry : families_) list.push_back(entry.get());
    }
    std::string out;
    for (const family* f : list) {
        static constexpr std::string_view type_names[] = {"counter", "histogram", "gauge"};
        out += "# HELP " + f->name + ' ' + escape_help(f->help) + '\n';
        out +=
            "# TYPE " + f->name + ' ' + std::string(type_names[static_cast<int>(f->type)]) + '\n';
        switch (f->type) {
            case kind::counter: {
                auto series = f->counter->snapshot();
                if (series.empty() && f->label_names.empty()) series[{}] = 0;
                for (const auto& [labels, value] : series)
                    sample_line(out, f->name, label_text(f->label_names, labels), value);
                break;
            }
            case kind::histogram: {
                auto snap = f->hist->read();
                for (std::size_t i = 0; i <= snap.bounds.size(); ++i) {
                    std::string le = i < snap.bounds.size() ? format_value(snap.bounds[i]) : "+Inf";
                    sample_line(out, f->name + "_bucket", label_text({}, {}, "le", le),
                                static_cast<double>(snap.cumulative[i]));
                }
                sample_line(out, f->name + "_sum", "", snap.sum);
                sample_line(out, f->name + "_count", "", static_cast<double>(snap.count));
                break;
            }
            case kind::gauge: {
                std::vector<gauge_sample> samples;
                try {
                    samples = f->collect();
                } catch (const std::exception&) {
                    out += "# muster: " + f->name + " unavailable\n";
                    break;
                }
                for (const auto& sample : samples) {
                    if (sample.labels.size() != f->label_names.size()) continue;
                    sample_line(out, f->name, label_text(f->label_names, sample.labels),
                                sample.value);
                }
                break;
            }
        }
    }
    return out;
}

// ----------------------------------------------------------------------------------------
// The collector's metrics

namespace {

bool table_exists(sqlite_database& db, std::string_view name) {
    auto select = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
    select.bind(1, name);
    return select.step();
}

void count_by(sqlite_database& db, std::string_view sql, std::map<std::string, double>& into) {
    auto select = db.prepare(sql);
    while (select.step()) {
        if (select.column_is_null(0)) continue;
        into[select.column_text(0)] = static_cast<double>(select.column_int64(1));
    }
}

std::vector<gauge_sample> samples_of(const std::map<std::string, double>& values) {
    std::vector<gauge_sample> out;
    for (const auto& [label, value] : values) out.push_back({{label}, value});
    return out;
}

}  // namespace

cmdb_gauges read_cmdb_gauges(const std::filesystem::path& db_file) {
    sqlite_database db(db_file, sqlite_open::read_only);
    db.set_busy_timeout(2000);
    // One read transaction: the three figures describe the same moment.
    sqlite_transaction snapshot(db, sqlite_transaction_mode::deferred);
    cmdb_gauges gauges;
    gauges.hosts_by_state = {{"active", 0}, {"stale", 0}, {"retired", 0}};
    count_by(db, "SELECT state, count(*) FROM cis GROUP BY state", gauges.hosts_by_state);
    gauges.open_incidents_by_priority = {{"P1", 0}, {"P2", 0}, {"P3", 0}, {"P4", 0}};
    if (table_exists(db, "incidents")) {
        count_by(db,
                 "SELECT 'P' || priority, count(*) FROM incidents "
                 "WHERE state IN ('new', 'acknowledged') GROUP BY priority",
                 gauges.open_incidents_by_priority);
    }
    if (table_exists(db, "notification_outbox") && table_exists(db, "notification_deliveries")) {
        // Deliveries under way, plus outbox rows no webhook has tried yet.
        auto select = db.prepare(
            "SELECT (SELECT count(*) FROM notification_deliveries "
            "        WHERE delivered_at IS NULL AND failed_at IS NULL) + "
            "       (SELECT count(*) FROM notification_outbox o WHERE NOT EXISTS "
            "        (SELECT 1 FROM notification_deliveries d WHERE d.outbox_id = o.id))");
        if (select.step())
            gauges.notifications_pending = static_cast<double>(select.column_int64(0));
    }
    return gauges;
}

collector_metrics::collector_metrics(std::function<cmdb_gauges()> gauges)
    : gauges_(std::move(gauges)),
      received_(registry_.add_counter("muster_reports_received_total",
                                      "Agent reports received (before verification).")),
      refused_(registry_.add_counter("muster_reports_refused_total",
                                     "Agent reports refused, by reason.", {"reason"})),
      ingest_(registry_.add_histogram(
          "muster_ingest_seconds",
          "Seconds from a report's receipt to its durable acknowledgement.",
          {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})) {
    // The gauge callbacks run inside render(), which filled scraped_ under scrape_mutex_.
    auto from_scrape = [this](auto pick) {
        return [this, pick]() -> std::vector<gauge_sample> {
            if (!scraped_ok_) throw std::runtime_error("CMDB unavailable");
            return pick(scraped_);
        };
    };
    registry_.add_gauge(
        "muster_hosts", "Configuration items (hosts) by state.", {"state"},
        from_scrape([](const cmdb_gauges& g) { return samples_of(g.hosts_by_state); }));
    registry_.add_gauge(
        "muster_incidents_open", "Open incidents (new or acknowledged) by priority.", {"priority"},
        from_scrape([](const cmdb_gauges& g) { return samples_of(g.open_incidents_by_priority); }));
    registry_.add_gauge("muster_notifications_pending",
                        "Webhook notifications not yet delivered nor given up.", {},
                        from_scrape([](const cmdb_gauges& g) {
                            return std::vector<gauge_sample>{{{}, g.notifications_pending}};
                        }));
}

std::string collector_metrics::render() const {
    std::lock_guard lock(scrape_mutex_);
    try {
        scraped_ = gauges_ ? gauges_() : cmdb_gauges{};
        scraped_ok_ = true;
    } catch (const std::exception&) {
        scraped_ok_ = false;  // the gauges say "unavailable"; counters still render
    }
    return registry_.render();
}

}  // namespace muster::collector
