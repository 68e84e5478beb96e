#include "agent/wire/spool.h"

#include "common/crypto.h"
#include "common/file.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>

namespace muster::agent::wire {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view suffix = ".report";
constexpr std::size_t max_header_bytes = 4096;
constexpr std::size_t max_report_file_bytes = 1ull << 31;

std::optional<std::uint64_t> uint_member(const boost::json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) return std::nullopt;
    if (it->value().is_uint64()) return it->value().as_uint64();
    if (it->value().is_int64() && it->value().as_int64() >= 0)
        return static_cast<std::uint64_t>(it->value().as_int64());
    return std::nullopt;
}

std::optional<std::string> string_member(const boost::json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_string()) return std::nullopt;
    return std::string(it->value().as_string());
}

// The metadata line of a spool file, read without loading the body.
std::optional<boost::json::object> read_header(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    if (!in || !std::getline(in, line) || line.size() > max_header_bytes) return std::nullopt;
    boost::system::error_code ec;
    auto value = boost::json::parse(line, ec);
    if (ec || !value.is_object()) return std::nullopt;
    return std::move(value.as_object());
}

}  // namespace

spool::spool(fs::path dir, std::uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw state_error("cannot create " + dir_.string() + ": " + ec.message());
    ::chmod(dir_.c_str(), 0700);
}

fs::path spool::path_of(std::uint64_t seq) const {
    return dir_ / (seq_file_stem(seq) + std::string(suffix));
}

std::string spool::encode(const report_entry& e) {
    boost::json::object header{{"seq", e.seq},
                               {"kind", e.kind},
                               {"base_seq", e.base_seq},
                               {"state_hash", e.state_hash},
                               {"signature", base64_encode(e.signature)},
                               {"body_bytes", e.body.size()}};
    return boost::json::serialize(header) + "\n" + e.body;
}

std::optional<report_entry> spool::decode(std::string_view content) {
    auto newline = content.find('\n');
    if (newline == std::string_view::npos || newline > max_header_bytes) return std::nullopt;
    boost::system::error_code ec;
    auto value = boost::json::parse(content.substr(0, newline), ec);
    if (ec || !value.is_object()) return std::nullopt;
    const auto& o = value.as_object();
    report_entry e;
    auto seq = uint_member(o, "seq");
    auto base = uint_member(o, "base_seq");
    auto bytes = uint_member(o, "body_bytes");
    auto kind = string_member(o, "kind");
    auto hash = string_member(o, "state_hash");
    auto signature = string_member(o, "signature");
    if (!seq || !base || !bytes || !kind || !hash || !signature) return std::nullopt;
    if (*kind != "full" && *kind != "delta") return std::nullopt;
    auto raw_signature = base64_decode(*signature);
    if (!raw_signature) return std::nullopt;
    auto body = content.substr(newline + 1);
    if (body.size() != *bytes) return std::nullopt;  // truncated or padded
    e.seq = *seq;
    e.kind = *kind;
    e.base_seq = *base;
    e.state_hash = *hash;
    e.signature = *raw_signature;
    e.body = std::string(body);
    return e;
}

std::vector<spooled> spool::list(std::vector<std::uint64_t>* corrupt) const {
    std::vector<spooled> entries;
    std::error_code list_ec, ec;
    for (const auto& file : fs::directory_iterator(dir_, list_ec)) {
        auto name = file.path().filename().string();
        if (name.ends_with(".tmp")) {
            fs::remove(file.path(), ec);
            continue;
        }
        auto seq = seq_of_file_name(name, suffix);
        if (!seq) continue;
        auto header = read_header(file.path());
        auto kind = header ? string_member(*header, "kind") : std::nullopt;
        if (!kind) {
            if (corrupt) corrupt->push_back(*seq);
            fs::remove(file.path(), ec);
            continue;
        }
        entries.push_back({*seq, *kind == "full", file.file_size(ec)});
    }
    if (list_ec) throw state_error("cannot list " + dir_.string() + ": " + list_ec.message());
    std::sort(entries.begin(), entries.end(),
              [](const spooled& a, const spooled& b) { return a.seq < b.seq; });
    return entries;
}

std::uint64_t spool::total_bytes() const {
    std::uint64_t total = 0;
    for (const auto& e : list()) total += e.bytes;
    return total;
}

std::vector<std::uint64_t> spool::drop_oldest_chain() const {
    std::vector<std::uint64_t> dropped;
    auto entries = list();
    for (std::size_t i = 0; i < entries.size(); ++i) {
        if (i > 0 && entries[i].full) break;
        remove(entries[i].seq);
        dropped.push_back(entries[i].seq);
    }
    return dropped;
}

std::vector<std::uint64_t> spool::make_room(std::uint64_t incoming) const {
    std::vector<std::uint64_t> dropped;
    while (total_bytes() + incoming > max_bytes_) {
        auto chain = drop_oldest_chain();
        if (chain.empty()) break;
        dropped.insert(dropped.end(), chain.begin(), chain.end());
    }
    return dropped;
}

void spool::add(const report_entry& entry) const {
    auto path = path_of(entry.seq);
    if (auto r = write_file_atomic(path, encode(entry)); !r)
        throw state_error("cannot write " + path.string() + ": " + r.error().message());
}

std::optional<report_entry> spool::read(std::uint64_t seq) const {
    auto content = read_file(path_of(seq), max_report_file_bytes);
    if (!content) return std::nullopt;
    auto entry = decode(*content);
    if (!entry || entry->seq != seq) return std::nullopt;
    return entry;
}

void spool::remove(std::uint64_t seq) const {
    std::error_code ec;
    fs::remove(path_of(seq), ec);
    if (ec) throw state_error("cannot remove " + path_of(seq).string() + ": " + ec.message());
}

void spool::remove_from(std::uint64_t first) const {
    for (const auto& e : list())
        if (e.seq >= first) remove(e.seq);
}

void spool::remove_through(std::uint64_t last) const {
    for (const auto& e : list())
        if (e.seq <= last) remove(e.seq);
}

}  // namespace muster::agent::wire
