#pragma once
// A real collector for the transport tests: `muster-collector init` into a temporary
// directory, some `limits:` values of its collector.yaml changed, `serve` in the background
// until the object ends (SIGTERM). Header-only, like installation.h.
#include "support/https_client.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

namespace muster::test {

using limit_values = std::map<std::string, std::string>;

inline std::string file_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

struct limited_collector {
    temp_dir tmp;
    std::string dir = tmp.path() + "/collector";
    int port = free_loopback_port();
    std::string url = "https://127.0.0.1:" + std::to_string(port);
    std::string ca = dir + "/ca.pem";
    std::string log_file = tmp.path() + "/collector.log";
    std::unique_ptr<background_process> process;

    explicit limited_collector(const limit_values& limits) {
        REQUIRE(run({MUSTER_COLLECTOR_BIN, "init", "--dir", dir, "--listen",
                     "127.0.0.1:" + std::to_string(port)})
                    .exit_code == 0);
        std::string config = dir + "/collector.yaml";
        for (const auto& [key, value] : limits) {
            REQUIRE(run({"sed", "-i", "s/^  " + key + ": .*/  " + key + ": " + value + "/", config})
                        .exit_code == 0);
            REQUIRE(file_text(config).find("  " + key + ": " + value + "\n") != std::string::npos);
        }
        process = std::make_unique<background_process>(
            std::vector<std::string>{MUSTER_COLLECTOR_BIN, "serve", "--config", config}, log_file);
        REQUIRE(wait_healthy());
    }
    ~limited_collector() {
        if (process) {
            process->signal(SIGTERM);
            process->wait(60'000);
        }
    }
    bool wait_healthy() {
        for (int attempt = 0; attempt < 600; ++attempt) {
            try {
                if (https_get(url + "/healthz", ca).status == 200) return true;
            } catch (const std::exception&) {
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }
    // The log, once it contains text (the collector writes it asynchronously to us).
    bool log_shows(const std::string& text) {
        for (int attempt = 0; attempt < 400; ++attempt) {
            if (file_text(log_file).find(text) != std::string::npos) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        INFO(file_text(log_file));
        return false;
    }
    // A quoted value of a file init wrote (the enrollment token of agent.yaml, say).
    std::string config_value(const std::string& file, const std::string& key) {
        auto text =
            run({"sed", "-n", "s/^ *" + key + ": \"\\(.*\\)\"$/\\1/p", dir + "/" + file}).out;
        while (!text.empty() && text.back() == '\n') text.pop_back();
        return text;
    }
    // A field of /proc/PID/status in KiB: VmHWM (peak RSS) or VmRSS.
    std::uint64_t memory_kib(const std::string& field) {
        std::ifstream status("/proc/" + std::to_string(process->pid()) + "/status");
        std::string line;
        while (std::getline(status, line)) {
            if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1));
        }
        return 0;
    }
};

}  // namespace muster::test
