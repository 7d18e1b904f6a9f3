// The media repository's logic: uploads (direct and asynchronous), lookups
// and opening stored bytes. The HTTP handlers in core/client/media_*.cpp
// parse requests and build responses; everything that touches the database
// or the store is here.
//
// Order of writes, so that nothing half-done stays behind:
//  - bytes first, through MediaStore::put (atomic: the object appears only
//    when complete, and an aborted put leaves nothing);
//  - then the row; if the row cannot be written, the object is erased.
#pragma once

#include "media/media_repository.h"
#include "media/store.h"
#include "media/upload_source.h"
#include "media/upload_waits.h"
#include "storage/database.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::media {

struct MediaSettings {
  std::string server_name;
  std::uint64_t max_upload_bytes = 50ULL * 1024 * 1024;
  /// Pending asynchronous uploads (created, not yet uploaded) per user.
  std::int64_t max_pending_uploads = 10;
  /// How long a created media ID waits for its upload.
  std::chrono::milliseconds pending_lifetime{std::chrono::hours(24)};
  /// Longest a download waits for a pending upload (timeout_ms is capped).
  std::chrono::milliseconds max_download_wait{std::chrono::seconds(20)};
  /// Downloads waiting for a pending upload at once; more get 504 at once.
  /// They wait without a thread (UploadWaits), each holding a connection.
  std::int64_t max_download_waiters = 1024;
  /// How often waiting downloads look for uploads made through other nodes.
  std::chrono::milliseconds pending_poll{250};
};

struct UploadRequest {
  std::string uploader;
  std::string content_type;  ///< normalized
  std::string file_name;     ///< empty: none; already checked
  std::optional<std::uint64_t> declared_size;
};

class MediaService {
 public:
  MediaService(storage::Database& db, Store& store, MediaSettings settings);

  [[nodiscard]] const MediaSettings& settings() const { return settings_; }
  [[nodiscard]] Store& store() { return store_; }
  [[nodiscard]] storage::Database& db() { return db_; }

  /// POST /upload: stores `body` under a new media ID and returns the ID.
  std::string upload(const UploadRequest& request, UploadSource& body);

  struct Created {
    std::string media_id;
    std::int64_t unused_expires_at = 0;  ///< ms since the epoch
  };
  /// POST /create. 429 M_LIMIT_EXCEEDED beyond max_pending_uploads.
  Created create(const std::string& uploader);

  /// PUT /upload/{server}/{mediaId} for a created ID: 403 M_FORBIDDEN for
  /// anyone but its creator, 409 M_CANNOT_OVERWRITE_MEDIA once uploaded (or
  /// while another PUT is uploading it), 404 M_NOT_FOUND when unknown or
  /// expired.
  void upload_pending(const UploadRequest& request, std::string_view server,
                      std::string_view media_id, UploadSource& body);

  /// The uploaded media behind a request's server name and media ID, after
  /// checking both (check_media_address). 504 M_NOT_YET_UPLOADED while it is
  /// pending, 404 M_NOT_FOUND when unknown or expired. Never waits: a
  /// handler that should wait calls wait_for_upload() first, and parks.
  MediaRecord find_uploaded(std::string_view server, std::string_view media_id);

  /// Calls `ready` (on another thread; it must not block) once the media is
  /// no longer pending or `wait` (capped at max_download_wait) has passed.
  /// 0 when max_download_waiters wait already (answer 504 at once).
  std::uint64_t wait_for_upload(std::string_view media_id, std::chrono::milliseconds wait,
                                std::function<void()> ready);
  void cancel_wait(std::uint64_t id) { waits_.cancel(id); }

  /// A stream over the stored bytes (or a range of them); 404 M_NOT_FOUND
  /// when the object is gone from the store although its row exists.
  std::unique_ptr<plugin::ByteSource> open(std::string_view key, std::uint64_t offset,
                                           std::optional<std::uint64_t> length);

  /// Checks a server name and media ID from a request before anything is
  /// looked up: 400 M_INVALID_PARAM when malformed (is_valid_media_id: the
  /// spec's alphabet, bounded length), 404 M_NOT_FOUND for another server's
  /// media (no federation yet). A well-formed ID of any shape is looked up,
  /// and one we never issued is then simply not found.
  void check_media_address(std::string_view server, std::string_view media_id) const;

  /// Milliseconds since the epoch.
  static std::int64_t now_ms();

  /// Runs put() and maps failures: the body's own failure (413 M_TOO_LARGE,
  /// 400 for a truncated body), a transient store error (503), others (500).
  std::uint64_t put_checked(std::string_view key, plugin::ByteSource& body,
                            const UploadSource* upload, const plugin::PutOptions& options);

 private:
  std::optional<MediaRecord> lookup(std::string_view media_id);

  storage::Database& db_;
  Store& store_;
  MediaSettings settings_;
  UploadWaits waits_;
};

}  // namespace eltrix::media
