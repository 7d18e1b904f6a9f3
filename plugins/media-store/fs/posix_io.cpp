#include "posix_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <system_error>

namespace eltrix::media_fs {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.release();
  }
  return *this;
}

void UniqueFd::reset() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool errno_is_transient(int err) {
  switch (err) {
    case ENOSPC:
    case EDQUOT:
    case EIO:
    case EAGAIN:
    case EBUSY:
    case EINTR:
    case ENOMEM:
    case ENOBUFS:
    case EMFILE:
    case ENFILE:
    case ETIMEDOUT:
    case ESTALE: return true;
    default: return false;
  }
}

std::string join_path(std::string_view root, std::string_view relative) {
  std::string out(root);
  if (!out.empty() && out.back() != '/') out += '/';
  out.append(relative);
  return out;
}

plugin::Error errno_error(int err, std::string_view what, std::string_view path) {
  std::string message = "media-store-fs: ";
  message.append(what).append(" '").append(path).append("': ");
  message.append(std::system_category().message(err));
  return plugin::Error(
      errno_is_transient(err) ? plugin::ErrorKind::transient : plugin::ErrorKind::permanent,
      message);
}

void write_all(int fd, const char* data, std::size_t size, std::string_view path) {
  while (size > 0) {
    ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw errno_error(errno, "cannot write", path);
    }
    data += written;
    size -= static_cast<std::size_t>(written);
  }
}

std::size_t pread_some(int fd, char* data, std::size_t size, std::uint64_t offset,
                       std::string_view path) {
  while (true) {
    ssize_t got = ::pread(fd, data, size, static_cast<off_t>(offset));
    if (got >= 0) return static_cast<std::size_t>(got);
    if (errno != EINTR) throw errno_error(errno, "cannot read", path);
  }
}

void fsync_fd(int fd, std::string_view path) {
  if (::fsync(fd) != 0) throw errno_error(errno, "cannot fsync", path);
}

void fsync_dir(int dir_fd, const std::string& relative, std::string_view path_for_errors) {
  UniqueFd dir(::openat(dir_fd, relative.empty() ? "." : relative.c_str(),
                        O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) throw errno_error(errno, "cannot open directory", path_for_errors);
  fsync_fd(dir.get(), path_for_errors);
}

void make_dirs(int dir_fd, std::string_view relative, std::string_view root) {
  std::size_t pos = 0;
  while (pos < relative.size()) {
    auto slash = relative.find('/', pos);
    if (slash == std::string_view::npos) slash = relative.size();
    std::string prefix(relative.substr(0, slash));
    if (::mkdirat(dir_fd, prefix.c_str(), 0750) == 0) {
      // Make the new entry durable in its parent.
      std::string parent(relative.substr(0, pos == 0 ? 0 : pos - 1));
      fsync_dir(dir_fd, parent, join_path(root, parent));
    } else if (errno != EEXIST) {
      throw errno_error(errno, "cannot create directory", join_path(root, prefix));
    }
    pos = slash + 1;
  }
}

}  // namespace eltrix::media_fs
