#include "collector/incidents/settings.h"

#include <algorithm>
#include <chrono>

namespace muster::collector::incidents {
namespace {

using namespace std::chrono_literals;
using std::chrono::duration_cast;
using std::chrono::seconds;

constexpr std::string_view level_names[] = {"high", "medium", "low"};
constexpr std::string_view priority_names[] = {"P1", "P2", "P3", "P4"};
constexpr auto one_day = std::chrono::hours(24);

std::int64_t read_seconds(config_map& map, std::string_view key, std::int64_t fallback,
                          std::chrono::milliseconds min, std::chrono::milliseconds max) {
    auto value = map.get_duration(key, duration_cast<std::chrono::milliseconds>(seconds(fallback)),
                                  min, max);
    return duration_cast<seconds>(value).count();
}

level read_level(config_map& map, std::string_view key, level fallback) {
    return *level_from_string(map.get_enum(key, level_names, to_string(fallback)));
}

std::optional<std::string> not_empty(std::string_view text) {
    if (text.empty()) return "must not be empty";
    return std::nullopt;
}

void read_matrix(config_map priority, priority_matrix& matrix) {
    for (std::size_t impact = 0; impact < 3; ++impact) {
        config_map row = priority.get_map(level_names[impact]);
        for (std::size_t urgency = 0; urgency < 3; ++urgency) {
            auto fallback = priority_name(matrix[impact][urgency]);
            auto name = row.get_enum(level_names[urgency], priority_names, fallback);
            matrix[impact][urgency] = name[1] - '0';
        }
    }
}

void read_sla(config_map sla, incident_settings& settings) {
    for (std::size_t i = 0; i < settings.sla.size(); ++i) {
        auto key = std::string(priority_names[i]);
        config_map target = sla.get_map(key);
        auto& out = settings.sla[i];
        out.response = read_seconds(target, "response", out.response, 1min, 365 * one_day);
        out.resolution = read_seconds(target, "resolution", out.resolution, 1min, 365 * one_day);
        if (out.resolution < out.response) {
            target.fail("resolution", "must not be shorter than response");
        }
    }
}

service_definition read_service(config_map& service) {
    service_definition out;
    out.name = service.get_string("name", not_empty);
    out.owner = service.get_string("owner", "");
    out.criticality = read_level(service, "criticality", level::medium);
    config_map members = service.get_map("members");
    out.hostnames = members.get_string_list("hostnames", {}, 1024, not_empty);
    out.tags = members.get_string_list("tags", {}, 1024, not_empty);
    out.os = members.get_string_list("os", {}, 1024, not_empty);
    if (out.hostnames.empty() && out.tags.empty() && out.os.empty()) {
        service.fail("members", "a service needs at least one hostname glob, tag or os");
    }
    return out;
}

void read_services(config_map& root, incident_settings& settings) {
    for (auto& service : root.get_map_list("services", 1000)) {
        auto definition = read_service(service);
        bool taken = std::any_of(settings.services.begin(), settings.services.end(),
                                 [&](const auto& s) { return s.name == definition.name; });
        if (taken) service.fail("name", "another service already has this name");
        settings.services.push_back(std::move(definition));
    }
}

void read_incidents(config_map incidents, incident_settings& out) {
    out.open_after = static_cast<int>(incidents.get_int("open_after", out.open_after, 1, 100));
    out.resolve_after =
        static_cast<int>(incidents.get_int("resolve_after", out.resolve_after, 1, 100));
    out.reopen_within =
        read_seconds(incidents, "reopen_within", out.reopen_within, 0ms, 30 * one_day);
    config_map flapping = incidents.get_map("flapping");
    out.flap_changes = static_cast<int>(flapping.get_int("changes", out.flap_changes, 2, 100));
    out.flap_window = read_seconds(flapping, "window", out.flap_window, 1min, 7 * one_day);
    out.flap_quiet = read_seconds(flapping, "quiet", out.flap_quiet, 1min, 7 * one_day);
    out.silent_after_intervals = static_cast<int>(
        incidents.get_int("silent_after_intervals", out.silent_after_intervals, 1, 1000));
    out.default_expected_interval = read_seconds(incidents, "default_expected_interval",
                                                 out.default_expected_interval, 1s, 30 * one_day);
    out.silent_urgency = read_level(incidents, "silent_urgency", out.silent_urgency);
    config_map problems = incidents.get_map("problems");
    out.problem_incidents =
        static_cast<int>(problems.get_int("incidents", out.problem_incidents, 2, 1000));
    out.problem_window = read_seconds(problems, "window", out.problem_window, 1min, 365 * one_day);
    out.default_impact = read_level(incidents, "default_impact", out.default_impact);
    read_matrix(incidents.get_map("priority"), out.matrix);
    read_sla(incidents.get_map("sla"), out);
}

}  // namespace

std::string_view to_string(level value) {
    return level_names[static_cast<std::size_t>(value)];
}

std::optional<level> level_from_string(std::string_view text) {
    for (std::size_t i = 0; i < std::size(level_names); ++i) {
        if (level_names[i] == text) return static_cast<level>(i);
    }
    return std::nullopt;
}

std::string priority_name(int priority) {
    return "P" + std::to_string(priority);
}

incident_settings read_incident_settings(config_map& root) {
    incident_settings settings;
    read_services(root, settings);
    read_incidents(root.get_map("incidents"), settings);
    return settings;
}

}  // namespace muster::collector::incidents
