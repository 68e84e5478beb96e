#pragma once
// Logging for agent and collector (spdlog). Logs go to stderr, where the systemd journal
// (or the terminal) picks them up; stdout is kept for command output such as the inventory.
//
// Two formats:
//   text  2024-05-01T12:00:00.123Z info [agent] message
//   json  one object per line: {"time":"2024-05-01T12:00:00.123Z","level":"info",
//         "logger":"agent","msg":"message"}
//
// Secrets rule: tokens, private keys and passwords are never passed to a logger, not even at
// trace level. Where a message must mention one, it shows redact(secret) instead, which says
// only how long it was.
#include <spdlog/logger.h>

#include <array>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace muster {

enum class log_format { text, json };

// The level names accepted in config files and on the command line, most verbose first.
inline constexpr std::array<std::string_view, 5> log_level_names = {"trace", "debug", "info",
                                                                    "warn", "error"};

struct logging_options {
    std::string level = "info";  // one of log_level_names
    log_format format = log_format::text;
    // Empty: stderr. Otherwise log lines are appended to this file (tests, debugging).
    std::filesystem::path file;
    // Name of the default logger, shown in lines logged without a component.
    std::string name = "muster";
};

// Nullopt for a name not in log_level_names.
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name);
std::optional<log_format> parse_log_format(std::string_view name);

// Configures the default logger and every logger already created: one sink, the format and
// the level. Throws std::invalid_argument for an unknown level and spdlog::spdlog_ex when the
// log file cannot be opened. Call once at startup, before threads start.
void setup_logging(const logging_options& options);

// The logger of one component ("inventory", "transport", ...): same sink, format and level as
// the default logger, with the component's name in each line.
std::shared_ptr<spdlog::logger> get_logger(const std::string& component);

// What a log message shows instead of a secret: "[redacted 32 bytes]". Nothing of the
// secret itself, not even a prefix or a hash, so logs never help an attacker.
std::string redact(std::string_view secret);

// The text as a JSON string literal, quotes included. Control characters are escaped and
// invalid UTF-8 becomes U+FFFD, so every line is valid JSON whatever was logged.
std::string json_quote(std::string_view text);

}  // namespace muster
