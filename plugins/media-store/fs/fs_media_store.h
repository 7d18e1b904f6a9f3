// media-store-fs: objects as files under one root directory (local disk or a
// shared filesystem).
//
// Layout: see object_layout.h. Writes go to a temporary file in <root>/.tmp
// (same filesystem), are fsynced and renamed into place, and the directory is
// fsynced, so an object is either absent or complete. Reads are ranges served
// with pread from an open descriptor, so an object erased or replaced while
// it is being read keeps serving the old bytes.
#pragma once

#include <eltrix/plugin/config.h>
#include <eltrix/plugin/host.h>
#include <eltrix/plugin/media_store.h>

#include "posix_io.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace eltrix::media_fs {

/// Size of the copy buffer for put().
inline constexpr std::size_t kCopyBufferSize = 64U * 1024U;
/// Temporary files older than this are removed when the store starts, and
/// from health() at most every kTempSweepInterval (left by a crashed put, or
/// one on another node sharing the filesystem).
inline constexpr std::chrono::hours kStaleTempAge{1};
inline constexpr std::chrono::minutes kTempSweepInterval{10};
/// Below this share of free space health() reports degraded.
inline constexpr double kLowSpaceRatio = 0.01;
/// Name of the temporary directory under the root.
inline constexpr const char* kTempDir = ".tmp";

class FsMediaStore final : public plugin::MediaStore {
 public:
  static constexpr const char* kDescription =
      "media on a local or shared filesystem, written atomically (temp file, fsync, rename)";
  static constexpr bool kThreadSafe = true;
  static constexpr std::uint64_t kCapabilities = 0;

  FsMediaStore(plugin::Host& host, const plugin::Config& config);
  ~FsMediaStore() override = default;

  plugin::Health health() override;
  std::uint64_t put(std::string_view key, plugin::ByteSource& source,
                    const plugin::PutOptions& options) override;
  std::unique_ptr<plugin::ByteSource> get(std::string_view key, std::uint64_t offset,
                                          std::optional<std::uint64_t> length) override;
  std::optional<plugin::ObjectInfo> stat(std::string_view key) override;
  bool exists(std::string_view key) override;
  bool erase(std::string_view key) override;
  /// Pages are whole leaf directories ("<hh>/<hh>", in name order); the
  /// cursor is the last one listed.
  plugin::ObjectPage list(std::string_view cursor, std::size_t limit) override;
  /// Temporary files older than `older_than` (what kStaleTempAge does on its
  /// own, at start-up and from health()).
  std::size_t remove_abandoned_uploads(std::chrono::seconds older_than) override;

  [[nodiscard]] const std::string& root() const { return root_; }
  /// The absolute path the object for `key` lives at (key must be valid).
  [[nodiscard]] std::string object_path(std::string_view key) const;

 private:
  std::size_t remove_stale_temp_files(std::chrono::seconds older_than = kStaleTempAge);
  // Adds the objects under the leaf directory `relative` ("hh/hh", or a
  // chunk directory below it) to `out`.
  void list_leaf(const std::string& relative, std::vector<plugin::StoredObject>& out);
  // Sweeps from health() when kTempSweepInterval has passed since the last sweep.
  void maybe_sweep_temp_files();
  std::string temp_name() const;

  plugin::Host& host_;
  std::string root_;
  UniqueFd root_fd_;
  plugin::Counter& bytes_written_;
  plugin::Counter& bytes_read_;
  // Host steady clock ticks at the last sweep of stale temporary files.
  std::atomic<std::chrono::steady_clock::rep> last_temp_sweep_;
};

}  // namespace eltrix::media_fs
