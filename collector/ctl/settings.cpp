#include "collector/ctl/settings.h"

#include "collector/ctl/errors.h"
#include "common/config.h"

#include <cstdlib>
#include <system_error>

namespace muster::ctl {

namespace {

struct partial {
    std::optional<std::string> url;
    std::optional<std::string> token;
    std::optional<std::string> ca_file;
};

std::optional<std::string> url_problem(std::string_view url) {
    if (url.rfind("https://", 0) != 0) return "expected an https:// URL";
    if (url.size() == 8) return "expected a host after https://";
    return std::nullopt;
}

partial from_file(const std::filesystem::path& path) {
    partial out;
    try {
        auto doc = load_yaml_file(path);
        read_config(doc, [&](config_map& root) {
            if (root.has("url")) out.url = root.get_string("url", url_problem);
            if (root.has("token")) {
                out.token = root.get_string("token", [](std::string_view t) {
                    return t.empty() ? std::optional<std::string>("empty token") : std::nullopt;
                });
            }
            if (root.has("ca_file")) {
                std::filesystem::path ca = root.get_string("ca_file");
                // Relative to the file, as every muster config path.
                out.ca_file = (ca.is_absolute() ? ca : path.parent_path() / ca).string();
            }
        });
    } catch (const config_error& e) {
        usage_error(e.what());
    }
    return out;
}

partial from_environment() {
    partial out;
    auto get = [](const char* name) -> std::optional<std::string> {
        const char* value = std::getenv(name);
        if (value == nullptr || *value == '\0') return std::nullopt;
        return std::string(value);
    };
    out.url = get("MUSTER_URL");
    out.token = get("MUSTER_TOKEN");
    out.ca_file = get("MUSTER_CA_FILE");
    if (out.url) {
        if (auto problem = url_problem(*out.url)) usage_error("MUSTER_URL: " + *problem);
    }
    return out;
}

std::optional<std::filesystem::path> home_file() {
    const char* home = std::getenv("HOME");
    if (home == nullptr || *home == '\0') return std::nullopt;
    std::filesystem::path path = std::filesystem::path(home) / ".config/muster/ctl.yaml";
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return std::nullopt;
    return path;
}

void fill(partial& into, const partial& from) {
    if (!into.url) into.url = from.url;
    if (!into.token) into.token = from.token;
    if (!into.ca_file) into.ca_file = from.ca_file;
}

}  // namespace

connection_settings load_connection_settings(const std::optional<std::filesystem::path>& config) {
    partial merged;
    if (config) fill(merged, from_file(*config));
    fill(merged, from_environment());
    if (!merged.url || !merged.token) {
        if (auto home = home_file()) fill(merged, from_file(*home));
    }
    if (!merged.url)
        usage_error(
            "no collector URL: give --config FILE, set MUSTER_URL, or write "
            "~/.config/muster/ctl.yaml");
    if (!merged.token)
        usage_error(
            "no token: give --config FILE, set MUSTER_TOKEN, or write "
            "~/.config/muster/ctl.yaml");
    connection_settings out;
    out.url = *merged.url;
    while (!out.url.empty() && out.url.back() == '/') out.url.pop_back();
    out.token = *merged.token;
    out.ca_file = merged.ca_file.value_or("");
    if (!out.ca_file.empty()) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(out.ca_file, ec))
            usage_error("ca_file: cannot read " + out.ca_file);
    }
    return out;
}

}  // namespace muster::ctl
