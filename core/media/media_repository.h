// SQL for the media tables (migration 0006). Every statement is a single
// parameterised exec (no session state), so it works behind PgBouncer in
// transaction mode.
#pragma once

#include "storage/database.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::media {

struct MediaRecord {
  std::string server_name;
  std::string media_id;
  std::string uploader;
  std::int64_t created_ts = 0;
  std::optional<std::int64_t> unused_expires_ts;
  std::optional<std::int64_t> upload_claimed_ts;
  std::optional<std::int64_t> uploaded_ts;  ///< nullopt: created, bytes not uploaded yet
  std::string content_type;
  std::uint64_t size = 0;
  std::string sha256;
  std::string upload_name;
  /// Set by the admin API: quarantined media is served to nobody.
  bool quarantined = false;
};

/// Metadata of a stored file (what a completed upload writes).
struct UploadedMeta {
  std::string content_type;
  std::uint64_t size = 0;
  std::string sha256;
  std::string upload_name;  ///< empty: none
};

struct ThumbnailRecord {
  std::string content_type;
  std::uint64_t size = 0;
};

std::optional<MediaRecord> find_media(storage::Transaction& tx, std::string_view server,
                                      std::string_view media_id);

/// A completed direct upload. Throws StorageError (unique violation) if the
/// ID exists, which a fresh random ID never does.
void insert_uploaded(storage::Transaction& tx, std::string_view server, std::string_view media_id,
                     std::string_view uploader, const UploadedMeta& meta, std::int64_t now_ms);

/// A pending asynchronous upload.
void insert_pending(storage::Transaction& tx, std::string_view server, std::string_view media_id,
                    std::string_view uploader, std::int64_t now_ms, std::int64_t expires_ms);

/// Pending uploads of `uploader` not yet expired at `now_ms`.
std::int64_t count_pending(storage::Transaction& tx, std::string_view uploader,
                           std::int64_t now_ms);

/// Removes `uploader`'s expired pending rows (never used, never will be).
std::size_t delete_expired_pending(storage::Transaction& tx, std::string_view uploader,
                                   std::int64_t now_ms);

/// Claims a pending upload for a PUT: true when the row is pending, unexpired,
/// and unclaimed (or its claim is older than `stale_before_ms`).
bool claim_pending(storage::Transaction& tx, std::string_view server, std::string_view media_id,
                   std::int64_t now_ms, std::int64_t stale_before_ms);
/// Gives a claim back after a failed PUT.
void release_claim(storage::Transaction& tx, std::string_view server, std::string_view media_id);
/// Fills in a claimed pending row; false if it is not pending any more.
bool complete_pending(storage::Transaction& tx, std::string_view server, std::string_view media_id,
                      const UploadedMeta& meta, std::int64_t now_ms);

std::optional<ThumbnailRecord> find_thumbnail(storage::Transaction& tx, std::string_view server,
                                              std::string_view media_id, int width, int height,
                                              std::string_view method);
/// Records a stored thumbnail; a concurrent identical insert is not an error.
void insert_thumbnail(storage::Transaction& tx, std::string_view server, std::string_view media_id,
                      int width, int height, std::string_view method,
                      const ThumbnailRecord& thumbnail, std::int64_t now_ms);

}  // namespace eltrix::media
