#pragma once
// What the fuzz targets share: a scratch directory per process (in /dev/shm when there is one,
// so that parsers reachable only through a path cost no disk I/O), and a fake root tree
// under it for the inventory collectors, which read files below a context's root.
//
// Error policy: a harness that cannot set itself up aborts (the run is void, not a finding).
#include "agent/inventory/context.h"
#include "common/logging.h"

#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace muster::fuzz {

// Removed at exit, so that a long run leaves nothing behind.
class scratch_dir {
  public:
    scratch_dir() {
        std::error_code ec;
        std::filesystem::path base =
            std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm" : "/tmp";
        std::string pattern = (base / "muster-fuzz-XXXXXX").string();
        if (!mkdtemp(pattern.data())) {
            std::perror("mkdtemp");
            std::abort();
        }
        path_ = pattern;
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

inline scratch_dir& scratch() {
    static scratch_dir dir;
    return dir;
}

inline void write_or_abort(const std::filesystem::path& file, std::string_view bytes) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
        std::fprintf(stderr, "cannot write %s\n", file.c_str());
        std::abort();
    }
}

// A root tree for one input: emptied first, so that no file of an earlier input is seen.
class fake_root {
  public:
    fake_root() : root_(scratch().path() / "root") {
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
        std::filesystem::create_directories(root_, ec);
    }
    // Writes bytes at an absolute system path ("/proc/meminfo") under the root.
    void write(std::string_view absolute, std::string_view bytes) const {
        write_or_abort(context().path(absolute), bytes);
    }
    agent::inventory::context context() const { return agent::inventory::context(root_); }

  private:
    std::filesystem::path root_;
};

// Log lines are formatted as in production, but into a file of the scratch directory: the
// refusals of garbage would otherwise flood the fuzzer's output.
inline void log_to_scratch_file() {
    logging_options log;
    log.level = "warn";
    log.file = scratch().path() / "muster.log";
    setup_logging(log);
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace muster::fuzz
