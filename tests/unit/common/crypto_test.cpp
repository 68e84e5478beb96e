// Ed25519, SHA-256 and Base64 checked against the openssl and sha256sum tools and RFC 4648.
#include "common/crypto.h"
#include "support/process.h"

#include <sys/stat.h>

#include <fstream>
#include <set>
#include <string>

#include <catch2/catch.hpp>

namespace {

void write_text(const std::string& path, std::string_view content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
}

}  // namespace

TEST_CASE("our Ed25519 signature verifies with openssl pkeyutl") {
    muster::test::temp_dir dir;
    auto key = muster::ed25519_key::generate();
    std::string message = "inventory document\n\0with a NUL";
    auto signature = key.sign(message);
    REQUIRE(signature.size() == 64);
    write_text(dir.path() + "/pub.pem", key.public_pem());
    write_text(dir.path() + "/msg", message);
    write_text(dir.path() + "/sig", signature);

    auto verify = muster::test::run({"openssl", "pkeyutl", "-verify", "-rawin", "-pubin", "-inkey",
                                     dir.path() + "/pub.pem", "-in", dir.path() + "/msg",
                                     "-sigfile", dir.path() + "/sig"});
    INFO(verify.out << verify.err);
    CHECK(verify.exit_code == 0);

    write_text(dir.path() + "/msg", message + "!");
    auto tampered = muster::test::run({"openssl", "pkeyutl", "-verify", "-rawin", "-pubin",
                                       "-inkey", dir.path() + "/pub.pem", "-in",
                                       dir.path() + "/msg", "-sigfile", dir.path() + "/sig"});
    CHECK(tampered.exit_code != 0);
}

TEST_CASE("a key made by openssl genpkey loads, and its signatures match ours") {
    muster::test::temp_dir dir;
    auto key_path = dir.path() + "/key.pem";
    REQUIRE(muster::test::run({"openssl", "genpkey", "-algorithm", "ed25519", "-out", key_path})
                .exit_code == 0);
    auto key = muster::ed25519_key::load_private_pem(key_path);
    CHECK(key.has_private());

    // Same public key as openssl derives.
    auto pub = muster::test::run({"openssl", "pkey", "-in", key_path, "-pubout"});
    REQUIRE(pub.exit_code == 0);
    CHECK(pub.out == key.public_pem());

    // Ed25519 is deterministic: openssl's signature is byte-identical to ours, and we
    // verify it.
    std::string message = "hello";
    write_text(dir.path() + "/msg", message);
    auto sig_path = dir.path() + "/sig";
    REQUIRE(muster::test::run({"openssl", "pkeyutl", "-sign", "-rawin", "-inkey", key_path, "-in",
                               dir.path() + "/msg", "-out", sig_path})
                .exit_code == 0);
    std::ifstream in(sig_path, std::ios::binary);
    std::string openssl_signature((std::istreambuf_iterator<char>(in)), {});
    CHECK(openssl_signature == key.sign(message));
    auto public_only = muster::ed25519_key::load_public_pem(pub.out);
    CHECK_FALSE(public_only.has_private());
    CHECK(muster::ed25519_verify(public_only, message, openssl_signature));
    CHECK_FALSE(muster::ed25519_verify(public_only, "hellO", openssl_signature));
    CHECK_THROWS_AS(public_only.sign(message), muster::crypto_error);
}

TEST_CASE("raw public keys round-trip and bad signatures are just false") {
    auto key = muster::ed25519_key::generate();
    auto raw = key.public_raw();
    REQUIRE(raw.size() == 32);
    auto from_raw = muster::ed25519_key::from_public_raw(raw);
    CHECK(from_raw.public_pem() == key.public_pem());
    auto signature = key.sign("data");
    CHECK(muster::ed25519_verify(from_raw, "data", signature));
    auto flipped = signature;
    flipped[10] = static_cast<char>(flipped[10] ^ 1);
    CHECK_FALSE(muster::ed25519_verify(from_raw, "data", flipped));
    CHECK_FALSE(muster::ed25519_verify(from_raw, "data", signature.substr(0, 63)));
    CHECK_FALSE(muster::ed25519_verify(from_raw, "data", ""));
    auto other = muster::ed25519_key::generate();
    CHECK_FALSE(muster::ed25519_verify(other, "data", signature));
    CHECK_THROWS_AS(muster::ed25519_key::from_public_raw("short"), muster::crypto_error);
}

TEST_CASE("saved private keys are 0600, reload, and openssl reads them") {
    muster::test::temp_dir dir;
    auto path = dir.path() + "/agent.key";
    auto key = muster::ed25519_key::generate();
    key.save_private_pem(path);
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto reloaded = muster::ed25519_key::load_private_pem(path);
    CHECK(reloaded.public_raw() == key.public_raw());
    CHECK(reloaded.sign("x") == key.sign("x"));
    auto pub = muster::test::run({"openssl", "pkey", "-in", path, "-pubout"});
    CHECK(pub.out == key.public_pem());
}

TEST_CASE("loading garbage, missing or non-Ed25519 keys throws crypto_error") {
    muster::test::temp_dir dir;
    CHECK_THROWS_AS(muster::ed25519_key::load_private_pem(dir.path() + "/absent"),
                    muster::crypto_error);
    write_text(dir.path() + "/garbage.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n");
    CHECK_THROWS_AS(muster::ed25519_key::load_private_pem(dir.path() + "/garbage.pem"),
                    muster::crypto_error);
    CHECK_THROWS_AS(muster::ed25519_key::load_public_pem("not pem"), muster::crypto_error);
    auto ec_path = dir.path() + "/ec.pem";
    REQUIRE(muster::test::run({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                               "ec_paramgen_curve:P-256", "-out", ec_path})
                .exit_code == 0);
    CHECK_THROWS_WITH(muster::ed25519_key::load_private_pem(ec_path),
                      Catch::Contains("not an Ed25519 key"));
}

TEST_CASE("sha256 matches sha256sum") {
    std::string data;
    for (int i = 0; i < 100000; ++i) data += static_cast<char>(i * 7 % 256);
    auto tool = muster::test::run({"sha256sum"}, data);
    REQUIRE(tool.exit_code == 0);
    CHECK(muster::sha256_hex(data) == tool.out.substr(0, 64));
    CHECK(muster::sha256("").size() == 32);
    CHECK(muster::sha256_hex("") ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("base64 follows the RFC 4648 test vectors") {
    const std::pair<std::string, std::string> vectors[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (auto& [plain, encoded] : vectors) {
        CHECK(muster::base64_encode(plain) == encoded);
        CHECK(muster::base64_decode(encoded) == plain);
    }
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    CHECK(muster::base64_decode(muster::base64_encode(all)) == all);
    CHECK(muster::base64_encode("\xfb\xff") == "+/8=");
}

TEST_CASE("base64_decode rejects anything not canonical") {
    for (const char* bad : {"Zg=", "Zg", "Zm9", "Z===", "====", "Zg==Zg==", "Zm 9v", "Zm9v\n",
                            "Zm-v", "Zh==", "Zm9=", "Zg=a"})
        CHECK_FALSE(muster::base64_decode(bad).has_value());
}

TEST_CASE("hex, constant-time comparison and random tokens") {
    CHECK(muster::hex_encode(std::string("\x00\x7f\xff", 3)) == "007fff");
    CHECK(muster::constant_time_equal("secret", "secret"));
    CHECK_FALSE(muster::constant_time_equal("secret", "secreT"));
    CHECK_FALSE(muster::constant_time_equal("secret", "secret2"));
    CHECK(muster::constant_time_equal("", ""));

    std::set<std::string> tokens;
    for (int i = 0; i < 100; ++i) {
        auto token = muster::random_token(32);
        CHECK(token.size() == 43);  // 32 bytes, unpadded base64
        CHECK(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789-_") == std::string::npos);
        tokens.insert(token);
    }
    CHECK(tokens.size() == 100);
}
