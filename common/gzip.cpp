#include "common/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <climits>
#include <new>
#include <stdexcept>

namespace muster {

namespace {

// windowBits 15 with +16: write and accept only the gzip wrapper, not raw zlib.
constexpr int gzip_window_bits = 16 + 15;
constexpr std::size_t chunk_size = 64 * 1024;

class gzip_category_impl : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "gzip"; }
    std::string message(int ev) const override {
        switch (static_cast<gzip_errc>(ev)) {
            case gzip_errc::truncated:
                return "gzip data is truncated";
            case gzip_errc::corrupt:
                return "gzip data is corrupt";
            case gzip_errc::too_large:
                return "gzip data decompresses beyond the size limit";
            case gzip_errc::trailing_garbage:
                return "trailing garbage after gzip data";
            case gzip_errc::out_of_memory:
                return "out of memory while decompressing";
        }
        return "unknown gzip error";
    }
};

// zlib's avail_in/avail_out are 32-bit: feed large buffers in slices.
uInt slice(std::size_t remaining) {
    return static_cast<uInt>(std::min<std::size_t>(remaining, UINT_MAX));
}

Bytef* input_bytes(std::string_view data) {
    // zlib never writes through next_in; its API predates const.
    return reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
}

// Owns a z_stream set up for one direction; the end call never throws.
class deflater {
  public:
    explicit deflater(int level) {
        int rc = deflateInit2(&stream_, level, Z_DEFLATED, gzip_window_bits, 8, Z_DEFAULT_STRATEGY);
        if (rc == Z_MEM_ERROR) throw std::bad_alloc();
        if (rc != Z_OK) throw std::invalid_argument("gzip_compress: invalid level");
    }
    deflater(const deflater&) = delete;
    deflater& operator=(const deflater&) = delete;
    ~deflater() { deflateEnd(&stream_); }
    z_stream& get() { return stream_; }

  private:
    z_stream stream_{};
};

class inflater {
  public:
    inflater() { ok_ = inflateInit2(&stream_, gzip_window_bits) == Z_OK; }
    inflater(const inflater&) = delete;
    inflater& operator=(const inflater&) = delete;
    ~inflater() {
        if (ok_) inflateEnd(&stream_);
    }
    bool ok() const { return ok_; }
    z_stream& get() { return stream_; }

  private:
    z_stream stream_{};
    bool ok_ = false;
};

bool starts_gzip_member(std::string_view rest) {
    return rest.size() >= 2 && static_cast<unsigned char>(rest[0]) == 0x1f &&
           static_cast<unsigned char>(rest[1]) == 0x8b;
}

}  // namespace

const boost::system::error_category& gzip_category() {
    static const gzip_category_impl category;
    return category;
}

boost::system::error_code make_error_code(gzip_errc e) {
    return {static_cast<int>(e), gzip_category()};
}

std::string gzip_compress(std::string_view data, int level) {
    deflater z(level);
    z_stream& s = z.get();
    std::string out;
    std::array<char, chunk_size> buffer;
    std::string_view rest = data;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        if (s.avail_in == 0 && !rest.empty()) {
            s.next_in = input_bytes(rest);
            s.avail_in = slice(rest.size());
            rest.remove_prefix(s.avail_in);
        }
        s.next_out = reinterpret_cast<Bytef*>(buffer.data());
        s.avail_out = static_cast<uInt>(buffer.size());
        rc = deflate(&s, rest.empty() ? Z_FINISH : Z_NO_FLUSH);
        if (rc == Z_STREAM_ERROR) throw std::logic_error("gzip_compress: deflate stream error");
        out.append(buffer.data(), buffer.size() - s.avail_out);
    }
    return out;
}

boost::system::result<std::string> gzip_decompress(std::string_view data, std::size_t max_output) {
    inflater z;
    if (!z.ok()) return make_error_code(gzip_errc::out_of_memory);
    z_stream& s = z.get();
    std::string out;
    std::array<char, chunk_size> buffer;
    std::string_view rest = data;
    for (;;) {
        if (s.avail_in == 0 && !rest.empty()) {
            s.next_in = input_bytes(rest);
            s.avail_in = slice(rest.size());
            rest.remove_prefix(s.avail_in);
        }
        s.next_out = reinterpret_cast<Bytef*>(buffer.data());
        s.avail_out = static_cast<uInt>(buffer.size());
        int rc = inflate(&s, Z_NO_FLUSH);
        std::size_t produced = buffer.size() - s.avail_out;
        if (produced > max_output - out.size()) return make_error_code(gzip_errc::too_large);
        out.append(buffer.data(), produced);
        if (rc == Z_OK) continue;
        // No progress possible: only more input could help, and there is none left.
        if (rc == Z_BUF_ERROR) {
            if (s.avail_in == 0 && rest.empty()) return make_error_code(gzip_errc::truncated);
            continue;
        }
        if (rc == Z_MEM_ERROR) return make_error_code(gzip_errc::out_of_memory);
        if (rc != Z_STREAM_END) return make_error_code(gzip_errc::corrupt);
        // End of one member: another may follow, anything else is garbage.
        std::string_view after(reinterpret_cast<const char*>(s.next_in), s.avail_in);
        if (after.empty() && rest.empty()) return out;
        if (!starts_gzip_member(after.empty() ? rest : after))
            return make_error_code(gzip_errc::trailing_garbage);
        if (inflateReset(&s) != Z_OK) return make_error_code(gzip_errc::corrupt);
    }
}

}  // namespace muster
