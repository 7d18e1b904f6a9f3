// Small POSIX helpers for the filesystem media store: an owning descriptor,
// complete writes, directory creation and fsync, and errno -> plugin::Error.
#pragma once

#include <eltrix/plugin/error.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace eltrix::media_fs {

/// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  ~UniqueFd() { reset(); }

  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset();

 private:
  int fd_ = -1;
};

/// Whether errno value `err` is worth retrying later (disk full, out of
/// descriptors, I/O error on a network filesystem, ...).
bool errno_is_transient(int err);

/// plugin::Error("media-store-fs: <what> '<path>': <strerror>"), transient or
/// permanent according to errno_is_transient.
plugin::Error errno_error(int err, std::string_view what, std::string_view path);

/// Writes all of `data`, retrying short writes and EINTR; throws errno_error.
void write_all(int fd, const char* data, std::size_t size, std::string_view path);

/// Reads up to `size` bytes at `offset`, retrying EINTR; throws errno_error.
std::size_t pread_some(int fd, char* data, std::size_t size, std::uint64_t offset,
                       std::string_view path);

/// fsync() the file, or the directory `relative` under `dir_fd`; throws errno_error.
void fsync_fd(int fd, std::string_view path);
void fsync_dir(int dir_fd, const std::string& relative, std::string_view path_for_errors);

/// Creates every missing directory of `relative` (a '/'-separated path under
/// `dir_fd`, all of it a directory path), fsyncing each parent that gained an
/// entry. `root` is only used in messages.
void make_dirs(int dir_fd, std::string_view relative, std::string_view root);

/// "<root>/<relative>" for messages.
std::string join_path(std::string_view root, std::string_view relative);

}  // namespace eltrix::media_fs
