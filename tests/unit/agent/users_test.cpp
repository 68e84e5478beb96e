#include "agent/inventory/collectors.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <fstream>

using namespace muster::agent::inventory;

namespace {
const boost::json::object* find_user(const boost::json::array& users, std::string_view name) {
    for (const auto& u : users)
        if (u.at("name").as_string() == name) return &u.as_object();
    return nullptr;
}
}  // namespace

TEST_CASE("users: the accounts of the debian fixture, without any password field") {
    error_list errors;
    auto users = collect_users(context(MUSTER_FIXTURES "/roots/debian"), errors).as_array();
    CHECK(errors.entries().empty());
    REQUIRE(users.size() == 5);
    const auto* alice = find_user(users, "alice");
    REQUIRE(alice);
    CHECK(*alice == boost::json::object{{"name", "alice"},
                                        {"uid", 1000},
                                        {"gid", 1000},
                                        {"home", "/home/alice"},
                                        {"shell", "/bin/bash"}});
    const auto* nobody = find_user(users, "nobody");
    REQUIRE(nobody);
    CHECK(nobody->at("uid") == 65534);
    CHECK(nobody->at("shell").is_null());
    for (const auto& u : users) CHECK(u.as_object().size() == 5);
}

TEST_CASE("users: garbage lines give one errors entry and the good lines still come out") {
    muster::test::temp_dir root;
    std::filesystem::create_directories(root.path() + "/etc");
    std::ofstream(root.path() + "/etc/passwd") << "root:x:0:0:root:/root:/bin/bash\n"
                                                  "this is not a passwd line\n"
                                                  "bob:x:notanumber:100::/home/bob:/bin/sh\n"
                                                  "+@netgroup\n"
                                                  "# comment\n"
                                                  "\n"
                                                  "too:many:1:1:x:/h:/s:extra\n"
                                                  "carol:x:1001:1001::/home/carol:/bin/zsh";
    error_list errors;
    auto users = collect_users(context(root.path()), errors).as_array();
    REQUIRE(users.size() == 2);
    CHECK(users[0].at("name") == "root");
    CHECK(users[1].at("name") == "carol");
    CHECK(users[1].at("home") == "/home/carol");
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries()[0].section == "users");
    CHECK(errors.entries()[0].path == "/etc/passwd");
    CHECK(errors.entries()[0].reason ==
          "corrupt at line 2: expected 7 colon-separated fields (and 2 more bad lines)");
}

TEST_CASE("users: an absent passwd is one error and an empty list") {
    error_list errors;
    auto users = collect_users(context(MUSTER_FIXTURES "/empty-root"), errors);
    CHECK(users.as_array().empty());
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries()[0].path == "/etc/passwd");
}

TEST_CASE("users: the live passwd agrees with getent passwd") {
    error_list errors;
    auto users = collect_users(context("/"), errors).as_array();
    auto getent = muster::test::run({"getent", "passwd", "root"});
    REQUIRE(getent.exit_code == 0);
    const auto* root = find_user(users, "root");
    REQUIRE(root);
    CHECK(getent.out.starts_with("root:x:0:0:"));
    CHECK(getent.out.find(std::string(root->at("home").as_string())) != std::string::npos);
}
