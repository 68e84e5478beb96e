#include "agent/inventory/software/rpm_header.h"

#include <cstring>

namespace muster::agent::inventory {

namespace {

// Limits rpm itself enforces on a header; larger values can only be garbage.
constexpr std::uint32_t max_index_entries = 0xffff;
constexpr std::uint32_t max_data_bytes = 256u << 20;
constexpr std::size_t entry_bytes = 16;

enum tag : std::uint32_t {
    tag_name = 1000,
    tag_version = 1001,
    tag_release = 1002,
    tag_epoch = 1003,
    tag_install_time = 1008,
    tag_size = 1009,
    tag_vendor = 1011,
    tag_arch = 1022,
    tag_long_size = 5009,
};

enum type : std::uint32_t {
    type_int32 = 4,
    type_int64 = 5,
    type_string = 6,
    type_max = 9,  // I18NSTRING
};

std::uint32_t be32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

std::uint64_t be64(const unsigned char* p) {
    return (std::uint64_t{be32(p)} << 32) | be32(p + 4);
}

struct index_entry {
    std::uint32_t tag, type, offset, count;
    std::size_t position;  // of the entry in the blob, for problem reports
};

class header_reader {
  public:
    header_reader(std::span<const unsigned char> blob, std::uint32_t il, std::uint32_t dl)
        : blob_(blob), il_(il), data_(blob.subspan(8 + std::size_t{il} * entry_bytes, dl)) {}

    // The last entry with this tag: entries added after the signed region replace earlier
    // ones, as rpm does when it loads a header.
    std::optional<index_entry> find(std::uint32_t wanted) const {
        std::optional<index_entry> found;
        for (std::uint32_t i = 0; i < il_; ++i) {
            auto e = entry(i);
            if (e.tag == wanted) found = e;
        }
        return found;
    }

    index_entry entry(std::uint32_t i) const {
        std::size_t at = 8 + std::size_t{i} * entry_bytes;
        const unsigned char* p = blob_.data() + at;
        return {be32(p), be32(p + 4), be32(p + 8), be32(p + 12), at};
    }

    std::size_t data_position(std::uint32_t offset) const {
        return 8 + std::size_t{il_} * entry_bytes + offset;
    }

    // Reads a NUL-terminated string entry.
    std::variant<std::string, rpm_header_problem> string_at(const index_entry& e) const {
        if (e.type != type_string || e.count != 1)
            return rpm_header_problem{e.position,
                                      "tag " + std::to_string(e.tag) + " is not a string"};
        if (e.offset >= data_.size())
            return rpm_header_problem{e.position,
                                      "tag " + std::to_string(e.tag) + " points outside the data"};
        auto rest = data_.subspan(e.offset);
        const void* nul = std::memchr(rest.data(), 0, rest.size());
        if (!nul)
            return rpm_header_problem{data_position(e.offset),
                                      "unterminated string of tag " + std::to_string(e.tag)};
        return std::string(reinterpret_cast<const char*>(rest.data()),
                           static_cast<const unsigned char*>(nul) - rest.data());
    }

    // Reads the first element of an INT32 or INT64 entry.
    std::variant<std::uint64_t, rpm_header_problem> number_at(const index_entry& e,
                                                              std::uint32_t type) const {
        std::size_t width = type == type_int64 ? 8 : 4;
        if (e.type != type || e.count < 1)
            return rpm_header_problem{e.position,
                                      "tag " + std::to_string(e.tag) + " has the wrong type"};
        if (std::size_t{e.offset} + width > data_.size())
            return rpm_header_problem{e.position,
                                      "tag " + std::to_string(e.tag) + " points outside the data"};
        const unsigned char* p = data_.data() + e.offset;
        return width == 8 ? be64(p) : std::uint64_t{be32(p)};
    }

    // Every entry must at least have a known type and point inside the data.
    std::optional<rpm_header_problem> check_entries() const {
        for (std::uint32_t i = 0; i < il_; ++i) {
            auto e = entry(i);
            if (e.type > type_max) return rpm_header_problem{e.position, "invalid entry type"};
            if (e.offset > data_.size())
                return rpm_header_problem{e.position, "entry points outside the data"};
        }
        return std::nullopt;
    }

  private:
    std::span<const unsigned char> blob_;
    std::uint32_t il_;
    std::span<const unsigned char> data_;
};

// Fills `into` from the tag when present; a present but malformed tag is a problem.
std::optional<rpm_header_problem> read_string(const header_reader& r, std::uint32_t tag,
                                              std::optional<std::string>& into) {
    auto e = r.find(tag);
    if (!e) return std::nullopt;
    auto value = r.string_at(*e);
    if (auto* problem = std::get_if<rpm_header_problem>(&value)) return *problem;
    into = std::move(std::get<std::string>(value));
    return std::nullopt;
}

template <typename T>
std::optional<rpm_header_problem> read_number(const header_reader& r, std::uint32_t tag,
                                              std::uint32_t type, std::optional<T>& into) {
    auto e = r.find(tag);
    if (!e) return std::nullopt;
    auto value = r.number_at(*e, type);
    if (auto* problem = std::get_if<rpm_header_problem>(&value)) return *problem;
    into = static_cast<T>(std::get<std::uint64_t>(value));
    return std::nullopt;
}

std::optional<rpm_header_problem> read_required(const header_reader& r, std::uint32_t tag,
                                                std::string_view what, std::string& into) {
    std::optional<std::string> value;
    if (auto problem = read_string(r, tag, value)) return problem;
    if (!value) return rpm_header_problem{0, "header without " + std::string(what)};
    into = std::move(*value);
    return std::nullopt;
}

}  // namespace

std::variant<rpm_header, rpm_header_problem> parse_rpm_header(std::span<const unsigned char> blob) {
    if (blob.size() < 8) return rpm_header_problem{blob.size(), "blob shorter than 8 bytes"};
    std::uint32_t il = be32(blob.data());
    std::uint32_t dl = be32(blob.data() + 4);
    if (il == 0 || il > max_index_entries)
        return rpm_header_problem{0, "invalid index length " + std::to_string(il)};
    if (dl > max_data_bytes)
        return rpm_header_problem{4, "invalid data length " + std::to_string(dl)};
    std::size_t needed = 8 + std::size_t{il} * entry_bytes + dl;
    if (blob.size() != needed)
        return rpm_header_problem{std::min(blob.size(), needed),
                                  "header needs " + std::to_string(needed) +
                                      " bytes, the blob has " + std::to_string(blob.size())};

    header_reader r(blob, il, dl);
    if (auto problem = r.check_entries()) return *problem;
    rpm_header h;
    std::optional<std::uint64_t> long_size, size;
    for (auto problem :
         {read_required(r, tag_name, "NAME", h.name),
          read_required(r, tag_version, "VERSION", h.version),
          read_required(r, tag_release, "RELEASE", h.release), read_string(r, tag_arch, h.arch),
          read_string(r, tag_vendor, h.vendor), read_number(r, tag_epoch, type_int32, h.epoch),
          read_number(r, tag_install_time, type_int32, h.install_time),
          read_number(r, tag_size, type_int32, size),
          read_number(r, tag_long_size, type_int64, long_size)})
        if (problem) return *problem;
    h.size = long_size ? long_size : size;
    return h;
}

std::string rpm_display_version(const rpm_header& h) {
    std::string out;
    if (h.epoch) out = std::to_string(*h.epoch) + ":";
    return out + h.version + "-" + h.release;
}

}  // namespace muster::agent::inventory
