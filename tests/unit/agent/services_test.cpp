#include "agent/inventory/collectors.h"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace muster::agent::inventory;

namespace {
boost::json::object unit(std::string_view name, std::string_view load_state,
                         boost::json::value enabled) {
    return {{"name", name},
            {"load_state", load_state},
            {"active_state", nullptr},
            {"sub_state", nullptr},
            {"enabled", enabled}};
}
}  // namespace

TEST_CASE("services: unit files of the server fixture, with load and enablement state") {
    error_list errors;
    auto services = collect_services(context(MUSTER_FIXTURES "/roots/server"), errors);
    CHECK(services == boost::json::array{
                          unit("cups.service", "masked", "masked"),
                          unit("getty@.service", "loaded", "enabled"),
                          unit("gone.service", "not-found", nullptr),
                          unit("local-backup.service", "loaded", "static"),
                          unit("nginx.service", "loaded", "enabled"),
                          unit("runtime-thing.service", "loaded", "enabled-runtime"),
                          unit("ssh.service", "loaded", "enabled"),
                          unit("sshd.service", "loaded", "alias"),
                          unit("systemd-journald.service", "loaded", "static"),
                      });
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries()[0].reason ==
          "active state needs the running system's D-Bus API (not read under a fixture root)");
}

TEST_CASE("services: without a running systemd the list is empty and says why") {
    error_list errors;
    auto services = collect_services(context(MUSTER_FIXTURES "/roots/container"), errors);
    CHECK(services.as_array().empty());
    REQUIRE(errors.entries().size() == 1);
    CHECK(errors.entries()[0].path == "/run/systemd/system");
}

TEST_CASE("services: the live system agrees with systemd's own marker") {
    error_list errors;
    auto services = collect_services(context("/"), errors).as_array();
    if (std::filesystem::is_directory("/run/systemd/system")) {
        CHECK(!services.empty());
    } else {
        CHECK(services.empty());
        REQUIRE(errors.entries().size() == 1);
        CHECK(errors.entries()[0].reason.find("systemd is not running") == 0);
    }
}
