#include "agent/wire/state_store.h"

#include "common/file.h"
#include "common/gzip.h"

#include <sys/stat.h>

#include <charconv>
#include <cstdio>

namespace muster::agent::wire {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t max_state_bytes = 256u << 20;

void make_private_dir(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw state_error("cannot create " + dir.string() + ": " + ec.message());
    if (::chmod(dir.c_str(), 0700) != 0)
        throw state_error("cannot set mode 0700 on " + dir.string() + ": " +
                          std::generic_category().message(errno));
}

void write_or_throw(const fs::path& path, std::string_view content) {
    if (auto r = write_file_atomic(path, content); !r)
        throw state_error("cannot write " + path.string() + ": " + r.error().message());
}

const boost::json::value* member(const boost::json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it == o.end() ? nullptr : &it->value();
}

bool read_uint(const boost::json::object& o, std::string_view key, std::uint64_t& out) {
    auto v = member(o, key);
    if (!v) return false;
    if (v->is_uint64())
        out = v->as_uint64();
    else if (v->is_int64() && v->as_int64() >= 0)
        out = static_cast<std::uint64_t>(v->as_int64());
    else
        return false;
    return true;
}

bool read_string(const boost::json::object& o, std::string_view key, std::string& out) {
    auto v = member(o, key);
    if (!v || !v->is_string()) return false;
    out = std::string(v->as_string());
    return true;
}

}  // namespace

std::string seq_file_stem(std::uint64_t seq) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%020llu", static_cast<unsigned long long>(seq));
    return buffer;
}

std::optional<std::uint64_t> seq_of_file_name(std::string_view name, std::string_view suffix) {
    if (name.size() != 20 + suffix.size() || !name.ends_with(suffix)) return std::nullopt;
    std::uint64_t seq = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + 20, seq);
    if (ec != std::errc() || end != name.data() + 20) return std::nullopt;
    return seq;
}

std::string serialize_state(const agent_state& s) {
    boost::json::object o{{"agent_id", s.agent_id},   {"next_seq", s.next_seq},
                          {"acked_seq", s.acked_seq}, {"acked_state_hash", s.acked_state_hash},
                          {"last_seq", s.last_seq},   {"last_state_hash", s.last_state_hash},
                          {"next_full", s.next_full}};
    return boost::json::serialize(o) + "\n";
}

std::optional<agent_state> parse_state(std::string_view text, std::string* problem) {
    boost::system::error_code ec;
    auto value = boost::json::parse(text, ec);
    if (ec) {
        *problem = "not valid JSON (" + ec.message() + ")";
        return std::nullopt;
    }
    if (!value.is_object()) {
        *problem = "not a JSON object";
        return std::nullopt;
    }
    const auto& o = value.as_object();
    agent_state s;
    auto next_full = member(o, "next_full");
    bool ok = read_string(o, "agent_id", s.agent_id) && read_uint(o, "next_seq", s.next_seq) &&
              read_uint(o, "acked_seq", s.acked_seq) &&
              read_string(o, "acked_state_hash", s.acked_state_hash) &&
              read_uint(o, "last_seq", s.last_seq) &&
              read_string(o, "last_state_hash", s.last_state_hash) && next_full &&
              next_full->is_bool();
    if (!ok) {
        *problem = "a member is missing or has the wrong type";
        return std::nullopt;
    }
    s.next_full = next_full->as_bool();
    if (s.next_seq <= s.last_seq || s.acked_seq > s.last_seq) {
        *problem = "inconsistent sequence numbers";
        return std::nullopt;
    }
    return s;
}

state_store::state_store(fs::path dir) : dir_(std::move(dir)) {
    make_private_dir(dir_);
    make_private_dir(dir_ / "states");
}

load_result state_store::load() const {
    load_result result;
    auto text = read_file(state_file(), 1 << 20);
    if (!text) {
        if (text.error() == boost::system::errc::no_such_file_or_directory) return result;
        throw state_error("cannot read " + state_file().string() + ": " + text.error().message());
    }
    if (auto state = parse_state(*text, &result.problem)) {
        result.what = load_result::status::loaded;
        result.state = *state;
    } else {
        result.what = load_result::status::corrupt;
    }
    return result;
}

void state_store::save(const agent_state& state) const {
    write_or_throw(state_file(), serialize_state(state));
}

void state_store::set_aside_corrupt() const {
    std::error_code ec;
    fs::rename(state_file(), dir_ / "state.json.corrupt", ec);
    if (ec) throw state_error("cannot move " + state_file().string() + " aside: " + ec.message());
}

fs::path state_store::state_path(std::uint64_t seq) const {
    return dir_ / "states" / (seq_file_stem(seq) + ".json.gz");
}

void state_store::write_state(std::uint64_t seq, const boost::json::object& state) const {
    write_or_throw(state_path(seq), gzip_compress(boost::json::serialize(state)));
}

std::optional<boost::json::object> state_store::read_state(std::uint64_t seq) const {
    auto gz = read_file(state_path(seq), max_state_bytes);
    if (!gz) return std::nullopt;
    auto text = gzip_decompress(*gz, max_state_bytes);
    if (!text) return std::nullopt;
    boost::system::error_code ec;
    auto value = boost::json::parse(*text, ec);
    if (ec || !value.is_object()) return std::nullopt;
    return std::move(value.as_object());
}

void state_store::recover(const agent_state& state) const {
    std::error_code ec;
    for (const auto& dir : {dir_, dir_ / "states"}) {
        for (const auto& entry : fs::directory_iterator(dir, ec)) {
            auto name = entry.path().filename().string();
            auto seq = seq_of_file_name(name, ".json.gz");
            bool stray_tmp = name.ends_with(".tmp");
            bool unreferenced =
                dir != dir_ && (!seq || (*seq != state.acked_seq && *seq != state.last_seq));
            if (stray_tmp || unreferenced) fs::remove(entry.path(), ec);
        }
    }
}

}  // namespace muster::agent::wire
