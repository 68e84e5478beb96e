#include "common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace muster {

namespace {

boost::system::error_code last_error() {
    return {errno, boost::system::generic_category()};
}

// Owns a POSIX file descriptor; closing never throws.
class fd_owner {
public:
    explicit fd_owner(int fd) : fd_(fd) {}
    fd_owner(const fd_owner&) = delete;
    fd_owner& operator=(const fd_owner&) = delete;
    ~fd_owner() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

}  // namespace

boost::system::result<std::string> read_file(const std::filesystem::path& path,
                                             std::size_t max_bytes) {
    fd_owner fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) return last_error();
    std::string content;
    char buffer[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            return last_error();
        }
        if (n == 0) break;
        if (content.size() + static_cast<std::size_t>(n) > max_bytes)
            return boost::system::error_code(EFBIG, boost::system::generic_category());
        content.append(buffer, static_cast<std::size_t>(n));
    }
    return content;
}

boost::system::result<void> write_file_atomic(const std::filesystem::path& path,
                                              std::string_view content, unsigned mode) {
    std::filesystem::path temp = path;
    temp += ".tmp";
    {
        fd_owner fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
        if (fd.get() < 0) return last_error();
        if (::fchmod(fd.get(), mode) != 0) return last_error();
        std::size_t written = 0;
        while (written < content.size()) {
            ssize_t n = ::write(fd.get(), content.data() + written, content.size() - written);
            if (n < 0) {
                if (errno == EINTR) continue;
                return last_error();
            }
            written += static_cast<std::size_t>(n);
        }
        if (::fsync(fd.get()) != 0) return last_error();
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) return last_error();
    auto dir = path.parent_path();
    fd_owner dir_fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() >= 0) ::fsync(dir_fd.get());
    return {};
}

std::string_view trim(std::string_view s) {
    auto blank = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0' || c == '\v' ||
               c == '\f';
    };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace muster
