#include "fs_media_store.h"

#include "object_layout.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <random>
#include <vector>

namespace eltrix::media_fs {
namespace {

constexpr const char* kDefaultRoot = "/var/lib/eltrix/media";

void check_key(std::string_view key) {
  if (!plugin::is_valid_object_key(key)) {
    std::string shown(key.substr(0, 64));
    for (char& c : shown) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    throw plugin::Error(
        plugin::ErrorKind::invalid_argument,
        "media-store-fs: invalid object key '" + shown + (key.size() > 64 ? "...'" : "'"));
  }
}

std::string parent_of(const std::string& relative) {
  auto slash = relative.rfind('/');
  return slash == std::string::npos ? std::string() : relative.substr(0, slash);
}

/// A byte range of an open file, read with pread.
class FileRangeSource final : public plugin::ByteSource {
 public:
  FileRangeSource(UniqueFd fd, std::uint64_t offset, std::uint64_t length, std::string path,
                  plugin::Counter& bytes_read)
      : fd_(std::move(fd)),
        position_(offset),
        remaining_(length),
        path_(std::move(path)),
        bytes_read_(bytes_read) {}

  std::size_t read(char* buffer, std::size_t capacity) override {
    if (remaining_ == 0 || capacity == 0) return 0;
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(capacity, remaining_));
    std::size_t got = pread_some(fd_.get(), buffer, want, position_, path_);
    if (got == 0) {
      // The file is shorter than it was at open; it cannot be, since objects
      // are replaced by rename, but never loop forever on it.
      remaining_ = 0;
      return 0;
    }
    position_ += got;
    remaining_ -= got;
    bytes_read_.inc(static_cast<double>(got));
    return got;
  }

 private:
  UniqueFd fd_;
  std::uint64_t position_;
  std::uint64_t remaining_;
  std::string path_;
  plugin::Counter& bytes_read_;
};

}  // namespace

FsMediaStore::FsMediaStore(plugin::Host& host, const plugin::Config& config)
    : host_(host),
      root_(config.get_string("media.path", kDefaultRoot)),
      bytes_written_(
          host.counter("eltrix_media_fs_bytes_written_total", "Bytes written to media files")),
      bytes_read_(host.counter("eltrix_media_fs_bytes_read_total", "Bytes read from media files")),
      last_temp_sweep_(host.steady_now().time_since_epoch().count()) {
  if (root_.empty()) {
    throw plugin::Error(plugin::ErrorKind::permanent,
                        "media.path: expected a directory path, found an empty value");
  }
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();

  // Create the root and its parents if missing.
  std::string prefix;
  std::size_t pos = root_.front() == '/' ? 1 : 0;
  while (true) {
    auto slash = root_.find('/', pos);
    prefix = root_.substr(0, slash);
    if (!prefix.empty() && ::mkdir(prefix.c_str(), 0750) != 0 && errno != EEXIST) {
      int err = errno;
      throw plugin::Error(plugin::ErrorKind::permanent,
                          "media.path: cannot create the media directory '" + root_ + "' (at '" +
                              prefix + "'): " + std::system_category().message(err));
    }
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  root_fd_ = UniqueFd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd_.valid()) {
    int err = errno;
    throw plugin::Error(plugin::ErrorKind::permanent,
                        "media.path: cannot open the media directory '" + root_ +
                            "': " + std::system_category().message(err));
  }
  if (::mkdirat(root_fd_.get(), kTempDir, 0750) != 0 && errno != EEXIST) {
    int err = errno;
    throw plugin::Error(plugin::ErrorKind::permanent,
                        "media.path: cannot create '" + join_path(root_, kTempDir) +
                            "': " + std::system_category().message(err));
  }
  if (::faccessat(root_fd_.get(), kTempDir, W_OK | X_OK, 0) != 0 ||
      ::faccessat(root_fd_.get(), ".", W_OK | X_OK, 0) != 0) {
    int err = errno;
    throw plugin::Error(plugin::ErrorKind::permanent,
                        "media.path: the media directory '" + root_ +
                            "' is not writable: " + std::system_category().message(err));
  }
  std::size_t removed = remove_stale_temp_files();
  host_.info("filesystem media store ready",
             {{"path", root_}, {"stale_temp_files_removed", std::to_string(removed)}});
}

std::size_t FsMediaStore::remove_stale_temp_files(std::chrono::seconds older_than) {
  UniqueFd dir_fd(::openat(root_fd_.get(), kTempDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) {
    throw errno_error(errno, "cannot open directory", join_path(root_, kTempDir));
  }
  // fdopendir takes the descriptor over; closedir closes it.
  DIR* dir = ::fdopendir(dir_fd.get());
  if (dir == nullptr) throw errno_error(errno, "cannot list", join_path(root_, kTempDir));
  int fd = dir_fd.release();
  std::vector<std::string> stale;
  auto cutoff = std::chrono::system_clock::to_time_t(host_.wall_now() - older_than);
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name(entry->d_name);
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISREG(st.st_mode) && st.st_mtime < cutoff) stale.emplace_back(name);
  }
  std::size_t removed = 0;
  for (const auto& name : stale) {
    if (::unlinkat(fd, name.c_str(), 0) == 0) {
      ++removed;
    } else if (errno != ENOENT) {
      host_.warn("cannot remove stale temporary file",
                 {{"path", join_path(join_path(root_, kTempDir), name)},
                  {"error", std::system_category().message(errno)}});
    }
  }
  ::closedir(dir);
  return removed;
}

void FsMediaStore::maybe_sweep_temp_files() {
  using Clock = std::chrono::steady_clock;
  const auto now = host_.steady_now();
  auto last = last_temp_sweep_.load();
  if (now - Clock::time_point(Clock::duration(last)) < kTempSweepInterval) return;
  // One caller sweeps; concurrent health() calls skip.
  if (!last_temp_sweep_.compare_exchange_strong(last, now.time_since_epoch().count())) return;
  try {
    std::size_t removed = remove_stale_temp_files();
    if (removed != 0) {
      host_.info("removed stale temporary files",
                 {{"path", join_path(root_, kTempDir)}, {"removed", std::to_string(removed)}});
    }
  } catch (const plugin::Error& error) {
    host_.warn("cannot sweep stale temporary files",
               {{"path", join_path(root_, kTempDir)}, {"error", error.what()}});
  }
}

namespace {

bool is_hash_dir_name(std::string_view name) {
  return name.size() == 2 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

/// The names of the entries of directory `relative` under `root_fd`, sorted;
/// empty when it does not exist (a race with nothing: directories are never
/// removed, but a listing must not fail on one that is).
std::vector<std::string> sorted_entries(int root_fd, const std::string& relative,
                                        const std::string& root) {
  UniqueFd dir_fd(::openat(root_fd, relative.empty() ? "." : relative.c_str(),
                           O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) {
    if (errno == ENOENT || errno == ENOTDIR) return {};
    throw errno_error(errno, "cannot open directory", join_path(root, relative));
  }
  DIR* dir = ::fdopendir(dir_fd.get());
  if (dir == nullptr) throw errno_error(errno, "cannot list", join_path(root, relative));
  dir_fd.release();
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name(entry->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

void FsMediaStore::list_leaf(const std::string& relative, std::vector<plugin::StoredObject>& out) {
  for (const auto& name : sorted_entries(root_fd_.get(), relative, root_)) {
    std::string path = relative;
    path += '/';
    path += name;
    struct stat st {};
    if (::fstatat(root_fd_.get(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      // Chunks of a long name (object_layout.h) end in '%'.
      if (name.back() == '%') list_leaf(path, out);
      continue;
    }
    if (!S_ISREG(st.st_mode)) continue;
    std::string key = key_from_relative_path(path);
    // Files this layout did not make are not objects: never report them.
    if (key.empty() || !plugin::is_valid_object_key(key)) continue;
    out.push_back({.key = std::move(key),
                   .modified_ms = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 +
                                  st.st_mtim.tv_nsec / 1'000'000,
                   .size = static_cast<std::uint64_t>(st.st_size)});
  }
}

plugin::ObjectPage FsMediaStore::list(std::string_view cursor, std::size_t limit) {
  // Leaf directories are visited in name order, each listed whole, so a
  // page ends at a directory boundary and the cursor is that directory.
  // Objects are never written outside them (the temporary directory is not
  // a hash directory, so it is skipped).
  const std::string after(cursor);
  plugin::ObjectPage page;
  for (const auto& top : sorted_entries(root_fd_.get(), "", root_)) {
    if (!is_hash_dir_name(top) || (!after.empty() && top < after.substr(0, 2))) continue;
    for (const auto& leaf : sorted_entries(root_fd_.get(), top, root_)) {
      if (!is_hash_dir_name(leaf)) continue;
      std::string relative = top;
      relative += '/';
      relative += leaf;
      if (!after.empty() && relative <= after) continue;
      list_leaf(relative, page.objects);
      if (page.objects.size() >= std::max<std::size_t>(limit, 1)) {
        page.next_cursor = std::move(relative);
        return page;
      }
    }
  }
  return page;
}

std::size_t FsMediaStore::remove_abandoned_uploads(std::chrono::seconds older_than) {
  return remove_stale_temp_files(older_than);
}

std::string FsMediaStore::temp_name() const {
  thread_local std::mt19937_64 rng{[] {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32U) ^ device();
  }()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name(std::string(kTempDir) + "/");
  for (int part = 0; part < 2; ++part) {
    std::uint64_t bits = rng();
    for (int i = 0; i < 16; ++i, bits >>= 4U) name += kHex[bits & 0xFU];
  }
  name += ".part";
  return name;
}

std::string FsMediaStore::object_path(std::string_view key) const {
  return join_path(root_, object_relative_path(key));
}

plugin::Health FsMediaStore::health() {
  if (::faccessat(root_fd_.get(), kTempDir, W_OK | X_OK, 0) != 0) {
    return {plugin::HealthStatus::failed,
            "media directory '" + join_path(root_, kTempDir) +
                "' not writable: " + std::system_category().message(errno)};
  }
  maybe_sweep_temp_files();
  struct statvfs vfs {};
  if (::fstatvfs(root_fd_.get(), &vfs) != 0) {
    return {plugin::HealthStatus::failed,
            "cannot query '" + root_ + "': " + std::system_category().message(errno)};
  }
  double total = static_cast<double>(vfs.f_blocks) * static_cast<double>(vfs.f_frsize);
  double free = static_cast<double>(vfs.f_bavail) * static_cast<double>(vfs.f_frsize);
  std::string free_mib = std::to_string(static_cast<std::uint64_t>(free / (1024.0 * 1024.0)));
  if (total > 0 && free / total < kLowSpaceRatio) {
    return {plugin::HealthStatus::degraded,
            "'" + root_ + "' almost full: " + free_mib + " MiB free"};
  }
  return {plugin::HealthStatus::ok, free_mib + " MiB free"};
}

std::uint64_t FsMediaStore::put(std::string_view key, plugin::ByteSource& source,
                                const plugin::PutOptions& /*options*/) {
  check_key(key);
  const std::string relative = object_relative_path(key);
  const std::string final_path = join_path(root_, relative);

  std::string temp;
  UniqueFd fd;
  for (int attempt = 0; attempt < 8 && !fd.valid(); ++attempt) {
    temp = temp_name();
    fd = UniqueFd(
        ::openat(root_fd_.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
    if (!fd.valid() && errno != EEXIST) {
      throw errno_error(errno, "cannot create temporary file", join_path(root_, temp));
    }
  }
  if (!fd.valid()) {
    throw plugin::Error(
        plugin::ErrorKind::transient,
        "media-store-fs: no free temporary file name in '" + join_path(root_, kTempDir) + "'");
  }
  const std::string temp_path = join_path(root_, temp);

  std::uint64_t total = 0;
  try {
    std::vector<char> buffer(kCopyBufferSize);
    while (true) {
      std::size_t got = source.read(buffer.data(), buffer.size());
      if (got == 0) break;
      if (got > buffer.size()) {
        throw plugin::Error(plugin::ErrorKind::permanent,
                            "media-store-fs: the byte source returned more than it was asked for");
      }
      write_all(fd.get(), buffer.data(), got, temp_path);
      total += got;
      bytes_written_.inc(static_cast<double>(got));
    }
    fsync_fd(fd.get(), temp_path);
    int raw = fd.release();
    if (::close(raw) != 0 && errno != EINTR) throw errno_error(errno, "cannot close", temp_path);

    if (::renameat(root_fd_.get(), temp.c_str(), root_fd_.get(), relative.c_str()) != 0) {
      if (errno != ENOENT) throw errno_error(errno, "cannot rename into", final_path);
      make_dirs(root_fd_.get(), parent_of(relative), root_);
      if (::renameat(root_fd_.get(), temp.c_str(), root_fd_.get(), relative.c_str()) != 0) {
        throw errno_error(errno, "cannot rename into", final_path);
      }
    }
  } catch (...) {
    fd.reset();
    ::unlinkat(root_fd_.get(), temp.c_str(), 0);
    throw;
  }
  // The object is in place; make the rename durable. A failure here is
  // reported, but the object stays (it is complete).
  fsync_dir(root_fd_.get(), parent_of(relative), final_path);
  return total;
}

std::unique_ptr<plugin::ByteSource> FsMediaStore::get(std::string_view key, std::uint64_t offset,
                                                      std::optional<std::uint64_t> length) {
  check_key(key);
  const std::string relative = object_relative_path(key);
  UniqueFd fd(::openat(root_fd_.get(), relative.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT || errno == ENOTDIR) return nullptr;
    throw errno_error(errno, "cannot open", join_path(root_, relative));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    throw errno_error(errno, "cannot stat", join_path(root_, relative));
  if (!S_ISREG(st.st_mode)) {
    throw plugin::Error(plugin::ErrorKind::permanent,
                        "media-store-fs: '" + join_path(root_, relative) + "' is not a file");
  }
  auto size = static_cast<std::uint64_t>(st.st_size);
  std::uint64_t available = offset >= size ? 0 : size - offset;
  std::uint64_t count = length ? std::min(*length, available) : available;
  return std::make_unique<FileRangeSource>(std::move(fd), offset, count, join_path(root_, relative),
                                           bytes_read_);
}

std::optional<plugin::ObjectInfo> FsMediaStore::stat(std::string_view key) {
  check_key(key);
  const std::string relative = object_relative_path(key);
  struct stat st {};
  if (::fstatat(root_fd_.get(), relative.c_str(), &st, 0) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw errno_error(errno, "cannot stat", join_path(root_, relative));
  }
  if (!S_ISREG(st.st_mode)) {
    throw plugin::Error(plugin::ErrorKind::permanent,
                        "media-store-fs: '" + join_path(root_, relative) + "' is not a file");
  }
  return plugin::ObjectInfo{.size = static_cast<std::uint64_t>(st.st_size), .content_type = {}};
}

bool FsMediaStore::exists(std::string_view key) {
  return stat(key).has_value();
}

bool FsMediaStore::erase(std::string_view key) {
  check_key(key);
  const std::string relative = object_relative_path(key);
  if (::unlinkat(root_fd_.get(), relative.c_str(), 0) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return false;
    throw errno_error(errno, "cannot remove", join_path(root_, relative));
  }
  return true;
}

}  // namespace eltrix::media_fs
