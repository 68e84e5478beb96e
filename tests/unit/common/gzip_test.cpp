// gzip compression round trips, interoperates with the gzip tool, and rejects bad input.
#include "common/gzip.h"
#include "support/process.h"

#include <string>

#include <catch2/catch.hpp>

namespace {

// Compressible but not trivial: repeated lines with a counter.
std::string sample_text(int lines) {
    std::string text;
    for (int i = 0; i < lines; ++i) text += "package libfoo" + std::to_string(i % 97) + " 1.2.3\n";
    return text;
}

std::string binary_bytes() {
    std::string data;
    unsigned state = 12345;
    for (int i = 0; i < 300000; ++i) {
        state = state * 1103515245u + 12345u;
        data += static_cast<char>(state >> 16);
    }
    return data;
}

}  // namespace

TEST_CASE("gzip round-trips text, binary and empty data") {
    for (const auto& data : {sample_text(20000), binary_bytes(), std::string()}) {
        for (int level : {0, 1, 6, 9}) {
            auto compressed = muster::gzip_compress(data, level);
            auto restored = muster::gzip_decompress(compressed, data.size());
            REQUIRE(restored.has_value());
            CHECK(*restored == data);
        }
    }
    CHECK(muster::gzip_compress(sample_text(20000)).size() < sample_text(20000).size() / 10);
    CHECK_THROWS_AS(muster::gzip_compress("x", 42), std::invalid_argument);
}

TEST_CASE("gzip -dc reads what we write, and we read what gzip -c writes") {
    auto data = sample_text(5000) + binary_bytes();
    auto ours = muster::test::run({"gzip", "-dc"}, muster::gzip_compress(data));
    REQUIRE(ours.exit_code == 0);
    CHECK(ours.out == data);

    auto theirs = muster::test::run({"gzip", "-c", "-9"}, data);
    REQUIRE(theirs.exit_code == 0);
    auto restored = muster::gzip_decompress(theirs.out, 10 << 20);
    REQUIRE(restored.has_value());
    CHECK(*restored == data);
}

TEST_CASE("concatenated gzip members decompress like gzip -dc") {
    auto both = muster::test::run_shell("printf first | gzip -c; printf second | gzip -c");
    REQUIRE(both.exit_code == 0);
    auto restored = muster::gzip_decompress(both.out, 1024);
    REQUIRE(restored.has_value());
    CHECK(*restored == "firstsecond");
}

TEST_CASE("a gzip bomb stops at the output cap") {
    std::string zeros(100 << 20, '\0');
    auto bomb = muster::gzip_compress(zeros, 9);
    zeros = std::string();
    CHECK(bomb.size() < 200 * 1024);
    auto result = muster::gzip_decompress(bomb, 1 << 20);
    REQUIRE(result.has_error());
    CHECK(result.error() == muster::gzip_errc::too_large);
    CHECK(result.error().message() == "gzip data decompresses beyond the size limit");
    // Exactly max_output bytes is allowed; one more is not.
    auto exact = muster::gzip_decompress(muster::gzip_compress(std::string(1000, 'a')), 1000);
    CHECK(exact.has_value());
    auto one_over = muster::gzip_decompress(muster::gzip_compress(std::string(1001, 'a')), 1000);
    CHECK(one_over.error() == muster::gzip_errc::too_large);
}

TEST_CASE("truncated input is an error at every cut point") {
    auto compressed = muster::gzip_compress(sample_text(2000));
    for (std::size_t cut = 0; cut < compressed.size(); cut += 1 + cut / 8) {
        auto result = muster::gzip_decompress(compressed.substr(0, cut), 1 << 20);
        INFO("cut at " << cut << " of " << compressed.size());
        REQUIRE(result.has_error());
        CHECK(result.error() == muster::gzip_errc::truncated);
    }
    CHECK(muster::gzip_decompress(compressed.substr(0, compressed.size() - 1), 1 << 20).error() ==
          muster::gzip_errc::truncated);
}

TEST_CASE("corrupt input and trailing garbage are errors") {
    auto compressed = muster::gzip_compress(sample_text(2000));

    auto not_gzip = muster::gzip_decompress("this is plain text, not gzip", 1 << 20);
    CHECK(not_gzip.error() == muster::gzip_errc::corrupt);

    auto bad_crc = compressed;
    bad_crc[bad_crc.size() - 6] = static_cast<char>(bad_crc[bad_crc.size() - 6] ^ 0x55);
    CHECK(muster::gzip_decompress(bad_crc, 1 << 20).error() == muster::gzip_errc::corrupt);

    auto bad_body = compressed;
    for (std::size_t i = 20; i < 40; ++i) bad_body[i] = static_cast<char>(0xff);
    auto body = muster::gzip_decompress(bad_body, 1 << 20);
    REQUIRE(body.has_error());
    CHECK(body.error() == muster::gzip_errc::corrupt);

    auto garbage = muster::gzip_decompress(compressed + "junk", 1 << 20);
    CHECK(garbage.error() == muster::gzip_errc::trailing_garbage);
    auto half_member = muster::gzip_decompress(compressed + "\x1f", 1 << 20);
    CHECK(half_member.error() == muster::gzip_errc::trailing_garbage);
    CHECK(garbage.error().category().name() == std::string("gzip"));
}
