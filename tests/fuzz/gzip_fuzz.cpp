// Fuzz target: gzip decompression with its cap (common/gzip.cpp). The first byte picks the
// cap (0 to 255 KiB), so that both sides of the too_large check are reached; what comes out
// must never pass the cap, and what is compressed must come back unchanged.
#include "common/gzip.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::size_t cap = std::size_t{data[0]} << 10;
    std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    auto out = muster::gzip_decompress(input, cap);
    if (out && out->size() > cap) {
        std::fprintf(stderr, "gzip_decompress gave %zu bytes with a cap of %zu\n", out->size(),
                     cap);
        std::abort();
    }
    auto again = muster::gzip_decompress(muster::gzip_compress(input, 1), input.size());
    if (!again || *again != input) {
        std::fprintf(stderr, "gzip round trip of %zu bytes failed\n", input.size());
        std::abort();
    }
    return 0;
}
