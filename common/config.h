#pragma once
// Validated YAML configuration files.
//
// Error policy: a configuration problem is never silently ignored and never guessed around.
// Every problem throws config_error whose message is complete and names the place, in the
// form compilers use, so that editors can jump to it:
//
//     agent.yaml:7:3: unknown key 'tagz' in 'inventory' (expected one of: interval, tags)
//
// Lines and columns are 1-based. Unknown keys, duplicate keys, wrong types, out-of-range
// values, missing required keys, several YAML documents in one file and YAML syntax errors
// are all errors.
//
// How a typed configuration is read (see agent/config.cpp for a real one):
//
//     agent_config read_agent_config(const yaml_document& doc) {
//         agent_config cfg;
//         read_config(doc, [&](config_map& root) {
//             cfg.tags = root.get_string_list("tags", {});
//             config_map log = root.get_map("log");
//             cfg.level = log.get_enum("level", {"debug", "info"}, "info");
//         });
//         return cfg;
//     }
//
// read_config() calls finish() on the root after the reader returns, and finish() checks
// the root and every mapping opened from it, so a reader cannot forget the unknown-key check
// for a nested section. The destructor of config_map never throws and checks nothing.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace muster {

class config_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

namespace detail {
struct yaml_tree;
struct config_tree;
struct recorder_access;
}  // namespace detail

// One parsed YAML file (or string). An empty file, or one with only comments, is an empty
// mapping: every key takes its default.
class yaml_document {
  public:
    ~yaml_document();
    yaml_document(yaml_document&&) noexcept;
    yaml_document& operator=(yaml_document&&) noexcept;

    // The name used in error messages: the path as the user gave it.
    const std::string& name() const;

  private:
    friend yaml_document load_yaml_string(std::string_view, std::string);
    friend class config_map;
    explicit yaml_document(std::unique_ptr<detail::yaml_tree> tree);
    std::unique_ptr<detail::yaml_tree> tree_;
};

// Config files are small; anything larger is refused rather than parsed.
inline constexpr std::size_t max_config_file_bytes = 1 << 20;

// Throws config_error when the file cannot be read or is not valid YAML.
yaml_document load_yaml_file(const std::filesystem::path& path);
// Same for text already in memory; name stands for the file in error messages.
yaml_document load_yaml_string(std::string_view text, std::string name);

// Checks one string value; returns a description of the problem, or nullopt when valid.
using string_check = std::function<std::optional<std::string>(std::string_view)>;

// A YAML mapping being read. Every get_* marks its key as known; finish() then reports the
// first key nobody asked for. A mapping absent from the file behaves as an empty one, so
// its keys take their defaults (and a required key is reported missing).
class config_map {
  public:
    // The root of the document; an error if it is not a mapping.
    explicit config_map(const yaml_document& doc);
    ~config_map();
    config_map(config_map&&) noexcept;
    config_map& operator=(config_map&&) noexcept;

    // True when the mapping is written in the file (even empty or null).
    bool present() const;
    // True when key is written in this mapping.
    bool has(std::string_view key) const;

    std::string get_string(std::string_view key, const string_check& check = {});
    std::string get_string(std::string_view key, std::string_view fallback,
                           const string_check& check = {});
    std::vector<std::string> get_string_list(std::string_view key,
                                             std::vector<std::string> fallback,
                                             std::size_t max_items = 1024,
                                             const string_check& check = {});
    std::int64_t get_int(std::string_view key, std::int64_t fallback, std::int64_t min,
                         std::int64_t max);
    bool get_bool(std::string_view key, bool fallback);
    // "64MiB", "10MB", "512KiB", "100B", plain bytes "4096". KB/MB/GB/TB are powers of
    // 1000, KiB/MiB/GiB/TiB powers of 1024.
    std::uint64_t get_size(std::string_view key, std::uint64_t fallback, std::uint64_t min,
                           std::uint64_t max);
    // "500ms", "30s", "5m", "1h", "2d", combinations such as "1h30m", or plain seconds "45".
    std::chrono::milliseconds get_duration(std::string_view key, std::chrono::milliseconds fallback,
                                           std::chrono::milliseconds min,
                                           std::chrono::milliseconds max);
    std::string get_enum(std::string_view key, std::span<const std::string_view> choices,
                         std::string_view fallback);
    std::string get_enum(std::string_view key, std::initializer_list<std::string_view> choices,
                         std::string_view fallback) {
        return get_enum(key, std::span(choices.begin(), choices.size()), fallback);
    }
    // A nested mapping; null (all children commented out) is an empty mapping.
    config_map get_map(std::string_view key);
    // A list of mappings ("checks:", "webhooks:"), one config_map per item, each checked for
    // unknown keys by finish() like any nested mapping; errors name "key[i].child". Absent
    // or null is an empty list.
    std::vector<config_map> get_map_list(std::string_view key, std::size_t max_items = 1024);

    // Throws config_error at key (or at this mapping when key is absent) with a message of
    // the form "'<path>': <problem>"; for checks no get_* can express.
    [[noreturn]] void fail(std::string_view key, std::string_view problem) const;

    // Reports unknown keys in this mapping and in every mapping opened from it.
    void finish();

  private:
    config_map(std::shared_ptr<detail::config_tree> tree, std::size_t index);
    std::shared_ptr<detail::config_tree> tree_;
    std::size_t index_ = 0;
};

// Reads doc with read(root), then calls root.finish(). The one way typed configurations are
// loaded, so the unknown-key check cannot be forgotten.
void read_config(const yaml_document& doc, const std::function<void(config_map&)>& read);

// The parsers behind get_size and get_duration, for command-line options that take the same
// syntax; nullopt when text is not valid.
std::optional<std::uint64_t> parse_size(std::string_view text);
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// While alive, collects the dotted path of every key that config_maps on this thread look up,
// whether the file has it or not: "log.level", "checks[].path" (list positions dropped). A
// lookup is any get_* except get_map and get_map_list (sections are not keys) and has(), so
// that keys a loader reads only in one branch ("collector.ca_fingerprint") are seen too.
// Exists so that a test can hold docs/configuration.md to what the loaders really read.
// Costs one thread-local test per lookup when none is alive; a recorder created while another
// is alive on the same thread takes over until it is destroyed. Throws nothing of its own.
class config_key_recorder {
  public:
    config_key_recorder();
    ~config_key_recorder();
    config_key_recorder(const config_key_recorder&) = delete;
    config_key_recorder& operator=(const config_key_recorder&) = delete;

    const std::set<std::string, std::less<>>& keys() const { return keys_; }

  private:
    friend struct detail::recorder_access;
    void record(std::string_view map_path, std::string_view key);

    std::set<std::string, std::less<>> keys_;
    config_key_recorder* previous_ = nullptr;
};

}  // namespace muster
