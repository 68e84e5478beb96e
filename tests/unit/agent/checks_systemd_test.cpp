// systemd_unit: the state mapping on unit rows as systemd lists them, and the
// paths where systemd cannot be asked: no bus socket at all (this container),
// and a real dbus-daemon without systemd on it, whose error must come back as
// the message.
#include "agent/checks/types.h"
#include "checks_support.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace checks_test;
using muster::agent::inventory::dbus::unit_row;

namespace {

unit_row row(const std::string& name, const std::string& active, const std::string& sub) {
    unit_row r;
    r.name = name;
    r.load_state = "loaded";
    r.active_state = active;
    r.sub_state = sub;
    return r;
}

}  // namespace

TEST_CASE(
    "systemd_unit: active is ok, transitions warn, inactive, failed and "
    "absent are critical") {
    std::vector<unit_row> units = {
        row("nginx.service", "active", "running"), row("db.service", "failed", "failed"),
        row("cron.service", "inactive", "dead"), row("app.service", "activating", "start-pre")};
    auto ok = checks::systemd_unit_outcome("nginx.service", units);
    CHECK(ok.status == checks::check_status::ok);
    CHECK(ok.message == "nginx.service is active (running)");
    CHECK(checks::systemd_unit_outcome("db.service", units).status ==
          checks::check_status::critical);
    CHECK(checks::systemd_unit_outcome("db.service", units).message ==
          "db.service is failed (failed)");
    CHECK(checks::systemd_unit_outcome("cron.service", units).status ==
          checks::check_status::critical);
    CHECK(checks::systemd_unit_outcome("app.service", units).status ==
          checks::check_status::warning);
    auto absent = checks::systemd_unit_outcome("gone.service", units);
    CHECK(absent.status == checks::check_status::critical);
    CHECK(absent.message.starts_with("gone.service is not loaded"));
}

TEST_CASE("systemd_unit without a system bus is unknown, saying so") {
    muster::test::temp_dir dir;
    auto r = run_check(
        "    id: s\n    type: systemd_unit\n    unit: nginx\n    bus: " + dir.path() + "/no-bus\n");
    CHECK(status_of(r) == "unknown");
    CHECK(r.outcome.message ==
          "no system bus at " + dir.path() + "/no-bus: systemd is not running here");
}

TEST_CASE(
    "systemd_unit on a bus without systemd is unknown with the bus's own "
    "error") {
    muster::test::temp_dir dir;
    auto socket = dir.path() + "/bus";
    muster::test::background_process daemon(
        {"dbus-daemon", "--session", "--nofork", "--address=unix:path=" + socket},
        dir.path() + "/dbus.log");
    for (int i = 0; i < 500 && access(socket.c_str(), F_OK) != 0; ++i) usleep(10000);
    REQUIRE(access(socket.c_str(), F_OK) == 0);
    auto item = "    id: s\n    type: systemd_unit\n    unit: nginx\n    bus: " + socket + "\n";
    auto r = run_check(item);
    // The socket file exists from bind(), a moment before the daemon listens on
    // it.
    for (int i = 0; i < 100 && r.outcome.message.find("NameHasNoOwner") == std::string::npos; ++i) {
        usleep(20000);
        r = run_check(item);
    }
    CHECK(status_of(r) == "unknown");
    CHECK(r.outcome.message.starts_with("cannot ask systemd about nginx.service: "));
    CHECK(r.outcome.message.find("org.freedesktop.DBus.Error.NameHasNoOwner") != std::string::npos);
}
