#include "common/config.h"

#include "common/file.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

namespace muster {
namespace detail {

struct yaml_tree {
    std::string name;
    YAML::Node root;
};

struct map_entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
};

struct map_state {
    std::string path;  // dotted path from the root, empty for the root itself
    YAML::Mark where;  // where a missing key is reported: the key naming this mapping
    bool present = false;
    std::vector<map_entry> entries;
    std::set<std::string, std::less<>> known;
    std::optional<std::size_t> parent;
};

struct config_tree {
    std::string name;
    std::vector<map_state> maps;
};

struct recorder_access {
    static void record(config_key_recorder& recorder, std::string_view map_path,
                       std::string_view key) {
        recorder.record(map_path, key);
    }
};

}  // namespace detail

namespace {

using detail::config_tree;
using detail::map_entry;
using detail::map_state;

// "file:line:column" with 1-based numbers; a null mark (no position known) is the start.
std::string location(const std::string& name, const YAML::Mark& mark) {
    int line = mark.is_null() ? 1 : mark.line + 1;
    int column = mark.is_null() ? 1 : mark.column + 1;
    return name + ":" + std::to_string(line) + ":" + std::to_string(column);
}

[[noreturn]] void throw_at(const std::string& name, const YAML::Mark& mark,
                           std::string_view message) {
    throw config_error(location(name, mark) + ": " + std::string(message));
}

std::string in_quotes(std::string_view text) {
    return "'" + std::string(text) + "'";
}

// What a value is, for "expected X, got Y".
std::string describe(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map:
            return "a mapping";
        case YAML::NodeType::Sequence:
            return "a list";
        case YAML::NodeType::Scalar:
            return in_quotes(node.Scalar());
        default:
            return "nothing";
    }
}

std::string key_path(const map_state& map, std::string_view key) {
    return map.path.empty() ? std::string(key) : map.path + "." + std::string(key);
}

// An empty value ("key:") has no position of its own; yaml-cpp reports the next token.
YAML::Mark value_mark(const map_entry& entry) {
    return entry.value.IsNull() ? entry.key_node.Mark() : entry.value.Mark();
}

std::vector<map_entry> read_entries(const std::string& name, const YAML::Node& node) {
    std::vector<map_entry> entries;
    for (const auto& pair : node) {
        YAML::Node key = pair.first;
        if (!key.IsScalar()) {
            throw_at(name, key.Mark(), "keys must be plain strings, got " + describe(key));
        }
        auto same = std::find_if(entries.begin(), entries.end(),
                                 [&](const map_entry& e) { return e.key == key.Scalar(); });
        if (same != entries.end()) {
            throw_at(name, key.Mark(),
                     "duplicate key " + in_quotes(key.Scalar()) + " (first at line " +
                         std::to_string(same->key_node.Mark().line + 1) + ")");
        }
        entries.push_back({key.Scalar(), key, pair.second});
    }
    return entries;
}

std::string join(const std::set<std::string, std::less<>>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

std::string join(std::span<const std::string_view> names) {
    std::string out;
    for (auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
    return out;
}

template <class Integer>
std::optional<Integer> parse_integer(std::string_view text) {
    Integer value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
        return std::nullopt;
    }
    return value;
}

// Leading decimal digits of text as an unsigned number; nullopt on none or overflow.
std::optional<std::uint64_t> take_number(std::string_view& text) {
    std::size_t n = 0;
    while (n < text.size() && text[n] >= '0' && text[n] <= '9') ++n;
    auto value = parse_integer<std::uint64_t>(text.substr(0, n));
    text.remove_prefix(n);
    return value;
}

std::optional<std::uint64_t> checked_multiply(std::uint64_t a, std::uint64_t b) {
    if (b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b) return std::nullopt;
    return a * b;
}

struct unit {
    std::string_view name;
    std::uint64_t factor;
};

constexpr unit size_units[] = {
    {"TiB", 1ULL << 40},
    {"GiB", 1ULL << 30},
    {"MiB", 1ULL << 20},
    {"KiB", 1ULL << 10},
    {"TB", 1000ULL * 1000 * 1000 * 1000},
    {"GB", 1000ULL * 1000 * 1000},
    {"MB", 1000ULL * 1000},
    {"KB", 1000},
    {"B", 1},
};

// Longest names first, so that "ms" is not read as "m".
constexpr unit duration_units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 24 * 3600 * 1000},
};

std::string format_size(std::uint64_t bytes) {
    for (const auto& u : {size_units[0], size_units[1], size_units[2], size_units[3]}) {
        if (bytes != 0 && bytes % u.factor == 0) {
            return std::to_string(bytes / u.factor) + std::string(u.name);
        }
    }
    return std::to_string(bytes) + "B";
}

std::string format_duration(std::chrono::milliseconds duration) {
    if (duration.count() == 0) return "0s";
    std::string out;
    auto left = static_cast<std::uint64_t>(duration.count());
    for (auto u = std::rbegin(duration_units); u != std::rend(duration_units); ++u) {
        if (left >= u->factor) {
            out += std::to_string(left / u->factor) + std::string(u->name);
            left %= u->factor;
        }
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Parsers

std::optional<std::uint64_t> parse_size(std::string_view text) {
    auto number = take_number(text);
    if (!number) return std::nullopt;
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    if (text.empty()) return number;
    for (const auto& u : size_units) {
        if (text == u.name) return checked_multiply(*number, u.factor);
    }
    return std::nullopt;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    constexpr auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (auto seconds = parse_integer<std::uint64_t>(text)) {
        auto ms = checked_multiply(*seconds, 1000);
        if (!ms || *ms > limit) return std::nullopt;
        return std::chrono::milliseconds(static_cast<std::int64_t>(*ms));
    }
    if (text.empty()) return std::nullopt;
    std::uint64_t total = 0;
    while (!text.empty()) {
        auto number = take_number(text);
        if (!number) return std::nullopt;
        const unit* found = nullptr;
        for (const auto& u : duration_units) {
            if (text.starts_with(u.name) &&
                (text.size() == u.name.size() ||
                 (text[u.name.size()] >= '0' && text[u.name.size()] <= '9'))) {
                found = &u;
                break;
            }
        }
        if (!found) return std::nullopt;
        text.remove_prefix(found->name.size());
        auto part = checked_multiply(*number, found->factor);
        if (!part || *part > limit - total) return std::nullopt;
        total += *part;
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(total));
}

// ---------------------------------------------------------------------------------------
// yaml_document

yaml_document::yaml_document(std::unique_ptr<detail::yaml_tree> tree) : tree_(std::move(tree)) {}
yaml_document::~yaml_document() = default;
yaml_document::yaml_document(yaml_document&&) noexcept = default;
yaml_document& yaml_document::operator=(yaml_document&&) noexcept = default;
const std::string& yaml_document::name() const {
    return tree_->name;
}

namespace {

// yaml-cpp 0.7 never returns from LoadAll on some inputs (a ',' where a block value is
// expected, as in the one-byte file ","), emitting events and allocating without end; found by
// tests/fuzz/config_yaml_fuzz.cpp. A first pass counts the parser's events and stops at a
// bound that real YAML (a few events per byte at most) never reaches.
class event_bound : public YAML::EventHandler {
  public:
    explicit event_bound(std::size_t limit) : limit_(limit) {}
    const YAML::Mark& last() const { return last_; }
    bool exceeded() const { return count_ > limit_; }

    void OnDocumentStart(const YAML::Mark& mark) override { count(mark); }
    void OnDocumentEnd() override { count(last_); }
    void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { count(mark); }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { count(mark); }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  const std::string&) override {
        count(mark);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        count(mark);
    }
    void OnSequenceEnd() override { count(last_); }
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
        count(mark);
    }
    void OnMapEnd() override { count(last_); }

    struct stop {};

  private:
    void count(const YAML::Mark& mark) {
        last_ = mark;
        if (++count_ > limit_) throw stop{};
    }
    std::size_t limit_;
    std::size_t count_ = 0;
    YAML::Mark last_;
};

void check_parser_terminates(const std::string& text, const std::string& name) {
    std::istringstream in(text);
    YAML::Parser parser(in);
    event_bound bound(8 * text.size() + 64);
    try {
        while (parser.HandleNextDocument(bound)) {
        }
    } catch (const event_bound::stop&) {
        throw_at(name, bound.last(),
                 "invalid YAML: the parser makes no progress here (a ',' outside [...] or {...}?)");
    }
}

}  // namespace

yaml_document load_yaml_string(std::string_view text, std::string name) {
    std::vector<YAML::Node> documents;
    try {
        check_parser_terminates(std::string(text), name);
        documents = YAML::LoadAll(std::string(text));
    } catch (const YAML::Exception& e) {
        throw_at(name, e.mark, "invalid YAML: " + e.msg);
    }
    if (documents.size() > 1) {
        throw_at(name, documents[1].Mark(), "a config file holds one YAML document, not several");
    }
    auto tree = std::make_unique<detail::yaml_tree>();
    tree->name = std::move(name);
    if (!documents.empty()) tree->root = documents.front();
    return yaml_document(std::move(tree));
}

yaml_document load_yaml_file(const std::filesystem::path& path) {
    auto text = read_file(path, max_config_file_bytes);
    if (!text) {
        throw config_error(path.string() + ": cannot read: " + text.error().message());
    }
    return load_yaml_string(*text, path.string());
}

// ---------------------------------------------------------------------------------------
// config_map

config_map::config_map(std::shared_ptr<detail::config_tree> tree, std::size_t index)
    : tree_(std::move(tree)), index_(index) {}
config_map::~config_map() = default;
config_map::config_map(config_map&&) noexcept = default;
config_map& config_map::operator=(config_map&&) noexcept = default;

config_map::config_map(const yaml_document& doc) : tree_(std::make_shared<config_tree>()) {
    const auto& root = doc.tree_->root;
    tree_->name = doc.name();
    map_state state;
    state.where = YAML::Mark();  // 0:0, the start of the file
    if (root.IsDefined() && !root.IsNull()) {
        if (!root.IsMap()) {
            throw_at(tree_->name, root.Mark(),
                     "expected a mapping of keys at the top level, got " + describe(root));
        }
        state.present = true;
        state.entries = read_entries(tree_->name, root);
    }
    tree_->maps.push_back(std::move(state));
}

namespace {

// The recorder alive on this thread, if any (config_key_recorder).
thread_local config_key_recorder* active_recorder = nullptr;

void note_lookup(const map_state& map, std::string_view key) {
    if (active_recorder) detail::recorder_access::record(*active_recorder, map.path, key);
}

// The entry for key in map, marking the key as known; nullptr when absent.
const map_entry* find_entry(map_state& map, std::string_view key) {
    if (!map.known.contains(key)) map.known.emplace(key);
    for (const auto& e : map.entries) {
        if (e.key == key) return &e;
    }
    return nullptr;
}

// find_entry for a key holding a value; sections (get_map, get_map_list) use find_entry.
const map_entry* lookup(map_state& map, std::string_view key) {
    note_lookup(map, key);
    return find_entry(map, key);
}

[[noreturn]] void throw_value(const config_tree& tree, const map_state& map, const map_entry& e,
                              std::string_view problem) {
    throw_at(tree.name, value_mark(e),
             in_quotes(key_path(map, e.key)) + ": " + std::string(problem));
}

[[noreturn]] void throw_missing(const config_tree& tree, const map_state& map,
                                std::string_view key) {
    std::string where = map.path.empty() ? "" : " in " + in_quotes(map.path);
    throw_at(tree.name, map.where, "missing required key " + in_quotes(key) + where);
}

// The scalar text of an entry; errors for lists, mappings and empty values.
const std::string& scalar_of(const config_tree& tree, const map_state& map, const map_entry& e,
                             std::string_view expected) {
    if (!e.value.IsScalar()) {
        throw_value(tree, map, e,
                    "expected " + std::string(expected) + ", got " + describe(e.value));
    }
    return e.value.Scalar();
}

void apply_check(const config_tree& tree, const std::string& path, const YAML::Mark& mark,
                 std::string_view value, const string_check& check) {
    if (!check) return;
    if (auto problem = check(value)) throw_at(tree.name, mark, in_quotes(path) + ": " + *problem);
}

}  // namespace

bool config_map::present() const {
    return tree_->maps[index_].present;
}

bool config_map::has(std::string_view key) const {
    note_lookup(tree_->maps[index_], key);
    const auto& entries = tree_->maps[index_].entries;
    return std::any_of(entries.begin(), entries.end(),
                       [&](const map_entry& e) { return e.key == key; });
}

std::string config_map::get_string(std::string_view key, const string_check& check) {
    auto& map = tree_->maps[index_];
    const auto* e = lookup(map, key);
    if (!e) throw_missing(*tree_, map, key);
    const auto& text = scalar_of(*tree_, map, *e, "a string");
    apply_check(*tree_, key_path(map, key), value_mark(*e), text, check);
    return text;
}

std::string config_map::get_string(std::string_view key, std::string_view fallback,
                                   const string_check& check) {
    if (!has(key)) {
        lookup(tree_->maps[index_], key);
        return std::string(fallback);
    }
    return get_string(key, check);
}

std::vector<std::string> config_map::get_string_list(std::string_view key,
                                                     std::vector<std::string> fallback,
                                                     std::size_t max_items,
                                                     const string_check& check) {
    auto& map = tree_->maps[index_];
    const auto* e = lookup(map, key);
    if (!e) return fallback;
    if (e->value.IsNull()) return {};
    if (!e->value.IsSequence()) {
        throw_value(*tree_, map, *e, "expected a list of strings, got " + describe(e->value));
    }
    if (e->value.size() > max_items) {
        throw_value(*tree_, map, *e,
                    "at most " + std::to_string(max_items) + " entries allowed, got " +
                        std::to_string(e->value.size()));
    }
    std::vector<std::string> items;
    for (const auto& item : e->value) {
        auto path = key_path(map, key) + "[" + std::to_string(items.size()) + "]";
        if (!item.IsScalar()) {
            throw_at(tree_->name, item.IsNull() ? e->value.Mark() : item.Mark(),
                     in_quotes(path) + ": expected a string, got " + describe(item));
        }
        apply_check(*tree_, path, item.Mark(), item.Scalar(), check);
        items.push_back(item.Scalar());
    }
    return items;
}

std::int64_t config_map::get_int(std::string_view key, std::int64_t fallback, std::int64_t min,
                                 std::int64_t max) {
    auto& map = tree_->maps[index_];
    const auto* e = lookup(map, key);
    if (!e) return fallback;
    const auto& text = scalar_of(*tree_, map, *e, "an integer");
    auto value = parse_integer<std::int64_t>(text);
    if (!value) throw_value(*tree_, map, *e, "expected an integer, got " + in_quotes(text));
    if (*value < min || *value > max) {
        throw_value(*tree_, map, *e,
                    text + " is out of range (expected " + std::to_string(min) + " to " +
                        std::to_string(max) + ")");
    }
    return *value;
}

bool config_map::get_bool(std::string_view key, bool fallback) {
    auto& map = tree_->maps[index_];
    const auto* e = lookup(map, key);
    if (!e) return fallback;
    const auto& text = scalar_of(*tree_, map, *e, "true or false");
    if (text == "true") return true;
    if (text == "false") return false;
    throw_value(*tree_, map, *e, "expected true or false, got " + in_quotes(text));
}

std::uint64_t config_map::get_size(std::string_view key, std::uint64_t fallback, std::uint64_t min,
                                   std::uint64_t max) {
    auto& map = tree_->maps[index_];
    const auto* e = lookup(map, key);
    if (!e) return fallback;
    constexpr std::string_view expected = "a size like 4096, 512KiB, 64MiB, 10MB";
    const auto& text = scalar_of(*tree_, map, *e, expected);
    auto value = parse_size(text);
    if (!value) {
        throw_value(*tree_, map, *e,
                    "expected " + std::string(expected) + ", got " + in_quotes(text));
    }
    if (*value < min || *value > max) {
        throw_value(*tree_, map, *e,
                    text + " is out of range (expected " + format_size(min) + " to " +
                        format_size(max) + ")");
    }
    return *value;
}

std::chrono::milliseconds config_map::get_duration(std::string_view key,
                                                   std::chrono::milliseconds fallback,
                                                   std::chrono::milliseconds min,
                                                   std::chrono::milliseconds max) {
    auto& map = tree_->maps[index_];
    const auto* e = lookup(map, key);
    if (!e) return fallback;
    constexpr std::string_view expected = "a duration like 30s, 5m, 1h";
    const auto& text = scalar_of(*tree_, map, *e, expected);
    auto value = parse_duration(text);
    if (!value) {
        throw_value(*tree_, map, *e,
                    "expected " + std::string(expected) + ", got " + in_quotes(text));
    }
    if (*value < min || *value > max) {
        throw_value(*tree_, map, *e,
                    text + " is out of range (expected " + format_duration(min) + " to " +
                        format_duration(max) + ")");
    }
    return *value;
}

std::string config_map::get_enum(std::string_view key, std::span<const std::string_view> choices,
                                 std::string_view fallback) {
    auto& map = tree_->maps[index_];
    const auto* e = lookup(map, key);
    if (!e) return std::string(fallback);
    std::string expected = "one of " + join(choices);
    const auto& text = scalar_of(*tree_, map, *e, expected);
    if (std::find(choices.begin(), choices.end(), text) == choices.end()) {
        throw_value(*tree_, map, *e, "expected " + expected + ", got " + in_quotes(text));
    }
    return text;
}

config_map config_map::get_map(std::string_view key) {
    auto path = key_path(tree_->maps[index_], key);
    for (std::size_t i = 0; i < tree_->maps.size(); ++i) {
        if (tree_->maps[i].parent == index_ && tree_->maps[i].path == path) {
            return config_map(tree_, i);
        }
    }
    map_state child;
    child.path = path;
    child.parent = index_;
    child.where = tree_->maps[index_].where;
    if (const auto* e = find_entry(tree_->maps[index_], key)) {
        child.present = true;
        child.where = e->key_node.Mark();
        if (e->value.IsMap()) {
            child.entries = read_entries(tree_->name, e->value);
        } else if (!e->value.IsNull()) {
            throw_value(*tree_, tree_->maps[index_], *e,
                        "expected a mapping, got " + describe(e->value));
        }
    }
    tree_->maps.push_back(std::move(child));
    return config_map(tree_, tree_->maps.size() - 1);
}

std::vector<config_map> config_map::get_map_list(std::string_view key, std::size_t max_items) {
    const auto* e = find_entry(tree_->maps[index_], key);
    if (!e || e->value.IsNull()) return {};
    if (!e->value.IsSequence()) {
        throw_value(*tree_, tree_->maps[index_], *e,
                    "expected a list of mappings, got " + describe(e->value));
    }
    if (e->value.size() > max_items) {
        throw_value(*tree_, tree_->maps[index_], *e,
                    "at most " + std::to_string(max_items) + " entries allowed, got " +
                        std::to_string(e->value.size()));
    }
    // Copies: pushing children below may move the entry e points into.
    const YAML::Node list = e->value;
    const auto base = key_path(tree_->maps[index_], key);
    const auto parent = index_;
    std::vector<config_map> items;
    for (const auto& item : list) {
        auto path = base + "[" + std::to_string(items.size()) + "]";
        if (!item.IsMap()) {
            throw_at(tree_->name, item.IsNull() ? list.Mark() : item.Mark(),
                     in_quotes(path) + ": expected a mapping, got " + describe(item));
        }
        auto same = std::find_if(tree_->maps.begin(), tree_->maps.end(), [&](const map_state& m) {
            return m.parent == parent && m.path == path;
        });
        if (same != tree_->maps.end()) {
            auto index = static_cast<std::size_t>(same - tree_->maps.begin());
            items.push_back(config_map(tree_, index));
            continue;
        }
        map_state child;
        child.path = path;
        child.parent = parent;
        child.where = item.Mark();
        child.present = true;
        child.entries = read_entries(tree_->name, item);
        tree_->maps.push_back(std::move(child));
        items.push_back(config_map(tree_, tree_->maps.size() - 1));
    }
    return items;
}

void config_map::fail(std::string_view key, std::string_view problem) const {
    const auto& map = tree_->maps[index_];
    for (const auto& e : map.entries) {
        if (e.key == key) throw_value(*tree_, map, e, problem);
    }
    throw_at(tree_->name, map.where, in_quotes(key_path(map, key)) + ": " + std::string(problem));
}

namespace {

bool descends_from(const config_tree& tree, std::size_t index, std::size_t ancestor) {
    for (std::optional<std::size_t> i = index; i; i = tree.maps[*i].parent) {
        if (*i == ancestor) return true;
    }
    return false;
}

}  // namespace

void config_map::finish() {
    for (std::size_t i = index_; i < tree_->maps.size(); ++i) {
        if (!descends_from(*tree_, i, index_)) continue;
        const auto& map = tree_->maps[i];
        for (const auto& e : map.entries) {
            if (map.known.contains(e.key)) continue;
            std::string where = map.path.empty() ? "" : " in " + in_quotes(map.path);
            std::string expected = map.known.empty() ? "this section takes no keys"
                                                     : "expected one of: " + join(map.known);
            throw_at(tree_->name, e.key_node.Mark(),
                     "unknown key " + in_quotes(e.key) + where + " (" + expected + ")");
        }
    }
}

void read_config(const yaml_document& doc, const std::function<void(config_map&)>& read) {
    config_map root(doc);
    read(root);
    root.finish();
}

// ---------------------------------------------------------------------------------------
// config_key_recorder

config_key_recorder::config_key_recorder() : previous_(active_recorder) {
    active_recorder = this;
}

config_key_recorder::~config_key_recorder() {
    active_recorder = previous_;
}

void config_key_recorder::record(std::string_view map_path, std::string_view key) {
    // "checks[3]" becomes "checks[]": a reference documents a list item's keys once.
    std::string path;
    bool in_index = false;
    for (char c : map_path) {
        if (c == ']') in_index = false;
        if (!in_index) path += c;
        if (c == '[') in_index = true;
    }
    if (!path.empty()) path += '.';
    path += key;
    keys_.insert(std::move(path));
}

}  // namespace muster
