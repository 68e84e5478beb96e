#include "common/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <mutex>
#include <stdexcept>

namespace muster {
namespace {

std::string_view level_name(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::trace:
            return "trace";
        case spdlog::level::debug:
            return "debug";
        case spdlog::level::info:
            return "info";
        case spdlog::level::warn:
            return "warn";
        case spdlog::level::err:
            return "error";
        case spdlog::level::critical:
            return "critical";
        default:
            return "off";
    }
}

// "2024-05-01T12:00:00.123Z"
std::string iso8601_utc_ms(std::chrono::system_clock::time_point time) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
    std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    char millis[8];
    std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms.count() % 1000));
    return std::string(text, n) + millis;
}

void append(spdlog::memory_buf_t& dest, std::string_view text) {
    dest.append(text.data(), text.data() + text.size());
}

std::string_view view(spdlog::string_view_t text) {
    return {text.data(), text.size()};
}

// Both formats are written here rather than with spdlog patterns, so that time and level
// names are the same in text and JSON.
class line_formatter final : public spdlog::formatter {
  public:
    explicit line_formatter(log_format format) : format_(format) {}

    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        auto time = iso8601_utc_ms(msg.time);
        auto level = level_name(msg.level);
        if (format_ == log_format::json) {
            append(dest, "{\"time\":\"" + time + "\",\"level\":\"" + std::string(level) +
                             "\",\"logger\":" + json_quote(view(msg.logger_name)) +
                             ",\"msg\":" + json_quote(view(msg.payload)) + "}\n");
        } else {
            append(dest, time + " " + std::string(level) + " [" +
                             std::string(view(msg.logger_name)) + "] ");
            append(dest, view(msg.payload));
            append(dest, "\n");
        }
    }

    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<line_formatter>(format_);
    }

  private:
    log_format format_;
};

// Serializes creation of component loggers against each other and against setup.
std::mutex& setup_mutex() {
    static std::mutex m;
    return m;
}

void configure(spdlog::logger& logger, const spdlog::sink_ptr& sink,
               spdlog::level::level_enum level) {
    logger.sinks() = {sink};
    logger.set_level(level);
    // Every line reaches the file or journal at once, even if the process dies right after.
    logger.flush_on(spdlog::level::trace);
}

}  // namespace

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name) {
    if (name == "trace") return spdlog::level::trace;
    if (name == "debug") return spdlog::level::debug;
    if (name == "info") return spdlog::level::info;
    if (name == "warn") return spdlog::level::warn;
    if (name == "error") return spdlog::level::err;
    return std::nullopt;
}

std::optional<log_format> parse_log_format(std::string_view name) {
    if (name == "text") return log_format::text;
    if (name == "json") return log_format::json;
    return std::nullopt;
}

void setup_logging(const logging_options& options) {
    auto level = parse_log_level(options.level);
    if (!level) throw std::invalid_argument("unknown log level: " + options.level);
    spdlog::sink_ptr sink;
    if (options.file.empty()) {
        sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    } else {
        // Created 0600 before spdlog opens it (with the umask's mode): logs name hosts and
        // agents. An existing file keeps its mode; a failure here is reported by spdlog below.
        int fd = ::open(options.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) ::close(fd);
        sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file.string());
    }
    sink->set_formatter(std::make_unique<line_formatter>(options.format));

    std::lock_guard lock(setup_mutex());
    spdlog::apply_all(
        [&](const std::shared_ptr<spdlog::logger>& l) { configure(*l, sink, *level); });
    auto main_logger = std::make_shared<spdlog::logger>(options.name, sink);
    configure(*main_logger, sink, *level);
    spdlog::set_default_logger(main_logger);
}

std::shared_ptr<spdlog::logger> get_logger(const std::string& component) {
    std::lock_guard lock(setup_mutex());
    if (auto existing = spdlog::get(component)) return existing;
    auto main_logger = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>(component, main_logger->sinks().begin(),
                                                   main_logger->sinks().end());
    logger->set_level(main_logger->level());
    logger->flush_on(spdlog::level::trace);
    spdlog::register_logger(logger);
    return logger;
}

std::string redact(std::string_view secret) {
    return "[redacted " + std::to_string(secret.size()) + " bytes]";
}

namespace {

// Length of the valid UTF-8 sequence at the start of s, or 0 when it is not valid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence_length(std::string_view s) {
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    auto continuation = [&](std::size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
    unsigned char b0 = byte(0);
    if (b0 < 0x80) return 1;
    if (b0 >= 0xC2 && b0 <= 0xDF) return continuation(1) ? 2 : 0;
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        if (!continuation(1) || !continuation(2)) return 0;
        if (b0 == 0xE0 && byte(1) < 0xA0) return 0;   // overlong
        if (b0 == 0xED && byte(1) >= 0xA0) return 0;  // surrogate
        return 3;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
        if (b0 == 0xF0 && byte(1) < 0x90) return 0;   // overlong
        if (b0 == 0xF4 && byte(1) >= 0x90) return 0;  // above U+10FFFF
        return 4;
    }
    return 0;
}

}  // namespace

std::string json_quote(std::string_view text) {
    std::string out = "\"";
    out.reserve(text.size() + 2);
    while (!text.empty()) {
        auto c = static_cast<unsigned char>(text.front());
        std::size_t n = utf8_sequence_length(text);
        if (n == 0) {
            out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
            n = 1;
        } else if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
            out += escaped;
        } else {
            out.append(text.substr(0, n));
        }
        text.remove_prefix(n);
    }
    out += '"';
    return out;
}

}  // namespace muster
