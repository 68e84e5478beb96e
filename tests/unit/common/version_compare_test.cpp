// Checks our dpkg and rpm version ordering against the real dpkg and rpm, on hand-picked
// tricky pairs and a few hundred seeded random ones.
#include "common/version_compare.h"
#include "support/process.h"

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace {

struct version_pair {
    std::string a;
    std::string b;
};

const std::vector<version_pair> tricky_pairs = {
    {"1.0", "1.0"},
    {"1.0~rc1", "1.0"},
    {"1.0~~", "1.0~"},
    {"1.0~~a", "1.0~~"},
    {"1.0~", "1.0"},
    {"1.0", "1.0a"},
    {"1.0a", "1.0+"},
    {"1.0+", "1.0."},
    {"1.0.", "1.0"},
    {"1.0a", "1.0.1"},
    {"1.01", "1.1"},
    {"1.001", "1.0001"},
    {"1.00", "1.0"},
    {"1.10", "1.9"},
    {"1.0-1", "1.0-01"},
    {"1.0-0", "1.0"},
    {"1.0-1", "1.0"},
    {"1.0-1", "1.0-1.1"},
    {"1.0-1~bpo1", "1.0-1"},
    {"1.0-1+deb12u1", "1.0-1"},
    {"1.0-a", "1.0-1"},
    {"1:1.0", "2.0"},
    {"0:1.0", "1.0"},
    {"00:1.0", "0:1.0"},
    {"2:1.0", "10:0.1"},
    {"1:1.0-1", "1:1.0-2"},
    {"1:2:3-4", "1:2:3"},
    {"1:2:3-4", "1:2.3-4"},
    {"1.2-3-4", "1.2-3"},
    {"1.2-3-4", "1.2.3-4"},
    {"1.0+dfsg", "1.0"},
    {"1.0+dfsg-1", "1.0-1"},
    {"2.30-1ubuntu1", "2.30-1"},
    {"5.4.0-1.el8", "5.4.0-1.el8_3"},
    {"123456789012345678901234567890", "123456789012345678901234567891"},
    {"1.123456789012345678901234567890", "1.99999999999999999999"},
    {"1.18446744073709551616", "1.18446744073709551615"},
    {"1.000000000000000000000000000001", "1.1"},
    {"1a", "1b"},
    {"1A", "1a"},
    {"1Z", "1a"},
    {"1.a", "1.1"},
    {"1.0a1", "1.0a"},
    {"1.0a1", "1.0b"},
    {"9", "10"},
    {"0", "00"},
    {"1.0~rc1-1", "1.0-1"},
    {"1.0.0~alpha", "1.0.0~beta"},
    {"3.0", "3.0~~"},
};

// rpm only: characters that dpkg rejects or treats differently.
const std::vector<version_pair> rpm_only_pairs = {
    {"1.0^", "1.0"},
    {"1.0", "1.0^"},
    {"1.0", "1.0^git1"},
    {"1.0^git1", "1.0"},
    {"1.0^git1", "1.0.1"},
    {"1.0^git1", "1.0^git2"},
    {"1.0^", "1.0~"},
    {"1.0~^", "1.0~"},
    {"1.0^~", "1.0^"},
    {"1.0^^", "1.0^"},
    {"1.0_1", "1.0.1"},
    {"1.0__1", "1.0.1"},
    {"1.0", "1.0-"},
    {"1.0-", "1.0-0"},
    {"a:1.0", "1.0"},
    {":1.0", "0:1.0"},
    {"1.0-1.fc38", "1.0-1.fc38.x86_64"},
    {"10:1", "9:2"},
    {"123456789012345678901234567890:1", "123456789012345678901234567889:2"},
    {"1.0a", "1.0.a"},
    {"1.0", "1.0a"},
    {"alpha", "beta"},
    {"1", "a"},
    {"1.0%1", "1.0#1"},
};

// splitmix64: the same sequence on every platform and standard library.
class seeded_random {
  public:
    explicit seeded_random(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
    char pick(std::string_view chars) { return chars[below(chars.size())]; }

  private:
    std::uint64_t state_;
};

// Short runs from a small alphabet, so that random pairs often share prefixes and tie.
std::string random_run(seeded_random& rng, std::string_view chars, std::size_t max_len) {
    std::string s;
    for (std::size_t n = 1 + rng.below(max_len); n > 0; --n) s += rng.pick(chars);
    return s;
}

// Always a valid dpkg version: upstream starts with a digit, ':' only with an epoch, '-'
// only with a revision.
std::string random_dpkg_version(seeded_random& rng) {
    std::string v;
    bool epoch = rng.below(4) == 0;
    bool revision = rng.below(2) == 0;
    if (epoch) v += random_run(rng, "0012", 2) + ":";
    v += rng.pick("0123456789");
    std::string upstream_chars = "0019.+~ab";
    if (epoch) upstream_chars += ':';
    if (revision) upstream_chars += '-';
    v += random_run(rng, upstream_chars, 8);
    if (rng.below(20) == 0) v += "184467440737095516160";  // beyond 64 bits
    if (revision) v += "-" + random_run(rng, "0019.+~aZ", 5);
    return v;
}

// Anything rpm accepts, including its own '^' and '_' and the dpkg forms.
std::string random_rpm_version(seeded_random& rng) {
    if (rng.below(2) == 0) return random_dpkg_version(rng);
    std::string v;
    if (rng.below(4) == 0) v += random_run(rng, "0012", 2) + ":";
    v += random_run(rng, "0019.~^_ab", 8);
    if (rng.below(2) == 0) v += "-" + random_run(rng, "019.~^ab", 4);
    return v;
}

// Mutates a version slightly, so that the pair is close (the interesting case).
std::string nearby(seeded_random& rng, std::string v) {
    std::size_t at = rng.below(v.size() + 1);
    switch (rng.below(3)) {
        case 0:
            return v.insert(at, 1, rng.pick("0~.a"));
        case 1:
            return at < v.size() && v[at] >= '0' && v[at] <= '8' ? (++v[at], v) : v + "1";
        default:
            return v + rng.pick("~a0.");
    }
}

bool is_valid_dpkg_version(std::string_view v) {
    auto colon = v.find(':');
    if (colon != std::string_view::npos) {
        auto epoch = v.substr(0, colon);
        if (epoch.empty() || epoch.size() > 9 ||
            epoch.find_first_not_of("0123456789") != std::string_view::npos)
            return false;
        v.remove_prefix(colon + 1);
    }
    auto hyphen = v.rfind('-');
    std::string_view revision;
    if (hyphen != std::string_view::npos) {
        revision = v.substr(hyphen + 1);
        if (revision.empty()) return false;
        v = v.substr(0, hyphen);
    }
    const std::string_view alnum = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    auto upstream_chars = std::string(alnum) + ".+~" +
                          (hyphen != std::string_view::npos ? "-" : "") +
                          (colon != std::string_view::npos ? ":" : "");
    return !v.empty() && v.front() >= '0' && v.front() <= '9' &&
           v.find_first_not_of(upstream_chars) == std::string_view::npos &&
           revision.find_first_not_of(std::string(alnum) + ".+~") == std::string_view::npos;
}

std::vector<version_pair> random_pairs(std::uint64_t seed, std::size_t count,
                                       std::string (*make)(seeded_random&)) {
    seeded_random rng(seed);
    std::vector<version_pair> pairs;
    while (pairs.size() < count) {
        auto a = make(rng);
        auto b = rng.below(2) == 0 ? nearby(rng, a) : make(rng);
        pairs.push_back({a, b});
    }
    return pairs;
}

std::string relation(int c) {
    return c < 0 ? "lt" : c == 0 ? "eq" : "gt";
}

// One shell runs dpkg for every pair (at most two dpkg processes per pair).
std::vector<std::string> dpkg_relations(const std::vector<version_pair>& pairs) {
    muster::test::temp_dir dir;
    std::string list = dir.path() + "/pairs";
    {
        std::ofstream out(list);
        for (auto& p : pairs) out << p.a << ' ' << p.b << '\n';
    }
    auto result =
        muster::test::run({"sh", "-c",
                           "while read -r a b; do"
                           "  if dpkg --compare-versions \"$a\" lt \"$b\"; then echo lt;"
                           "  elif dpkg --compare-versions \"$a\" eq \"$b\"; then echo eq;"
                           "  else echo gt; fi; done < \"$1\"",
                           "sh", list});
    REQUIRE(result.exit_code == 0);
    std::vector<std::string> lines;
    std::istringstream in(result.out);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::string lua_quote(std::string_view s) {
    std::string q = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') q += '\\';
        q += c;
    }
    return q + "\"";
}

// One rpm process evaluates rpm.vercmp for every pair; results are separated by ';'.
std::vector<std::string> rpm_relations(const std::vector<version_pair>& pairs) {
    muster::test::temp_dir dir;
    std::string script = dir.path() + "/vercmp.lua";
    {
        std::ofstream out(script);
        for (auto& p : pairs)
            out << "print(rpm.vercmp(" << lua_quote(p.a) << ", " << lua_quote(p.b)
                << ") .. \";\")\n";
    }
    auto result = muster::test::run({"rpm", "--eval", "%{lua: dofile(\"" + script + "\")}"});
    REQUIRE(result.exit_code == 0);
    std::vector<std::string> relations;
    std::istringstream in(result.out);
    for (std::string item; std::getline(in, item, ';');) {
        if (item == "\n") break;
        relations.push_back(relation(std::stoi(item)));
    }
    return relations;
}

std::vector<version_pair> dpkg_pairs() {
    auto pairs = tricky_pairs;
    for (auto& p : random_pairs(20240601, 320, random_dpkg_version))
        if (is_valid_dpkg_version(p.a) && is_valid_dpkg_version(p.b)) pairs.push_back(p);
    return pairs;
}

std::vector<version_pair> rpm_pairs() {
    auto pairs = tricky_pairs;
    pairs.insert(pairs.end(), rpm_only_pairs.begin(), rpm_only_pairs.end());
    auto random = random_pairs(7, 400, random_rpm_version);
    pairs.insert(pairs.end(), random.begin(), random.end());
    return pairs;
}

}  // namespace

TEST_CASE("dpkg ordering agrees with dpkg --compare-versions") {
    auto pairs = dpkg_pairs();
    for (auto& p : tricky_pairs) REQUIRE(is_valid_dpkg_version(p.a));
    REQUIRE(pairs.size() >= 300);
    auto expected = dpkg_relations(pairs);
    REQUIRE(expected.size() == pairs.size());
    std::size_t disagreements = 0;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        auto ours = relation(muster::compare_dpkg_versions(pairs[i].a, pairs[i].b));
        if (ours == expected[i]) continue;
        ++disagreements;
        UNSCOPED_INFO("dpkg: '" << pairs[i].a << "' vs '" << pairs[i].b << "': dpkg says "
                                << expected[i] << ", we say " << ours);
    }
    CHECK(disagreements == 0);
}

TEST_CASE("rpm ordering agrees with rpm.vercmp") {
    auto pairs = rpm_pairs();
    REQUIRE(pairs.size() >= 300);
    auto expected = rpm_relations(pairs);
    REQUIRE(expected.size() == pairs.size());
    std::size_t disagreements = 0;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        auto ours = relation(muster::compare_rpm_versions(pairs[i].a, pairs[i].b));
        if (ours == expected[i]) continue;
        ++disagreements;
        UNSCOPED_INFO("rpm: '" << pairs[i].a << "' vs '" << pairs[i].b << "': rpm says "
                               << expected[i] << ", we say " << ours);
    }
    CHECK(disagreements == 0);
}

TEST_CASE("comparison is antisymmetric and reflexive") {
    for (auto& p : rpm_pairs()) {
        CHECK(muster::compare_rpm_versions(p.a, p.a) == 0);
        CHECK(relation(muster::compare_rpm_versions(p.a, p.b)) ==
              relation(-muster::compare_rpm_versions(p.b, p.a)));
    }
    for (auto& p : dpkg_pairs()) {
        CHECK(muster::compare_dpkg_versions(p.a, p.a) == 0);
        CHECK(relation(muster::compare_dpkg_versions(p.a, p.b)) ==
              relation(-muster::compare_dpkg_versions(p.b, p.a)));
    }
}

TEST_CASE("compare_versions picks the rules by source") {
    // dpkg: a missing revision equals "-0"; rpm: a missing release sorts first.
    CHECK(muster::compare_versions("deb", "1.0", "1.0-0") == 0);
    CHECK(muster::compare_versions("rpm", "1.0", "1.0-0") < 0);
    // dpkg: '.' sorts after letters; rpm: any letter segment is older than a number.
    CHECK(muster::compare_versions("deb", "1.0a", "1.0.1") < 0);
    CHECK(muster::compare_versions("apk", "1.0", "1.0.1") < 0);
}
