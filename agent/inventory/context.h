#pragma once
// What every inventory collector receives: where to read from, and where to report what it
// could not read.
//
// Error policy of the inventory layer: a collector never throws and never aborts the
// inventory. Whatever it cannot read (absent, permission denied, corrupt) becomes one entry
// in the error list naming the section, the path and the reason, and the fields it could not
// fill are null. Exceptions escaping a collector are caught by the runner and reported the
// same way, as a last resort.
#include <boost/json.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace muster::agent::inventory {

struct error_entry {
    std::string section;
    std::string path;
    std::string reason;
};

class error_list {
public:
    void add(std::string_view section, std::string_view path, std::string_view reason) {
        entries_.push_back({std::string(section), std::string(path), std::string(reason)});
    }
    const std::vector<error_entry>& entries() const { return entries_; }

private:
    std::vector<error_entry> entries_;
};

class context {
public:
    explicit context(std::filesystem::path root = "/", std::vector<std::string> tags = {})
        : root_(std::move(root)), tags_(std::move(tags)) {}

    // The path of an absolute system path (such as "/proc/meminfo") under the root.
    std::filesystem::path path(std::string_view absolute) const {
        while (!absolute.empty() && absolute.front() == '/') absolute.remove_prefix(1);
        return root_ / absolute;
    }
    // True when reading the running system rather than a fixture tree: only then may a
    // collector ask the kernel directly (statvfs, netlink, uname).
    bool live() const { return root_ == "/"; }
    const std::filesystem::path& root() const { return root_; }
    const std::vector<std::string>& tags() const { return tags_; }

private:
    std::filesystem::path root_;
    std::vector<std::string> tags_;
};

// Every collector has this shape: read under ctx, return its section, report what failed.
using collector_fn = boost::json::value (*)(const context& ctx, error_list& errors);

}  // namespace muster::agent::inventory
