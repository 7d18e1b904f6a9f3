#include "media/media_repository.h"

namespace eltrix::media {

std::optional<MediaRecord> find_media(storage::Transaction& tx, std::string_view server,
                                      std::string_view media_id) {
  auto row = tx.exec_optional(
      "SELECT uploader, created_ts, unused_expires_ts, upload_claimed_ts, uploaded_ts, "
      "content_type, size, sha256, upload_name, quarantined_by IS NOT NULL FROM media "
      "WHERE server_name = $1 AND media_id = $2",
      server, media_id);
  if (!row) return std::nullopt;
  MediaRecord out;
  out.server_name = std::string(server);
  out.media_id = std::string(media_id);
  out.uploader = (*row)[0].as<std::string>();
  out.created_ts = (*row)[1].as<std::int64_t>();
  out.unused_expires_ts = storage::nullable<std::int64_t>((*row)[2]);
  out.upload_claimed_ts = storage::nullable<std::int64_t>((*row)[3]);
  out.uploaded_ts = storage::nullable<std::int64_t>((*row)[4]);
  out.content_type = storage::nullable<std::string>((*row)[5]).value_or("");
  out.size = static_cast<std::uint64_t>(storage::nullable<std::int64_t>((*row)[6]).value_or(0));
  out.sha256 = storage::nullable<std::string>((*row)[7]).value_or("");
  out.upload_name = storage::nullable<std::string>((*row)[8]).value_or("");
  out.quarantined = (*row)[9].as<bool>();
  return out;
}

namespace {
std::optional<std::string> optional_name(const UploadedMeta& meta) {
  if (meta.upload_name.empty()) return std::nullopt;
  return meta.upload_name;
}
}  // namespace

void insert_uploaded(storage::Transaction& tx, std::string_view server, std::string_view media_id,
                     std::string_view uploader, const UploadedMeta& meta, std::int64_t now_ms) {
  tx.exec0(
      "INSERT INTO media (server_name, media_id, uploader, created_ts, uploaded_ts, "
      "content_type, size, sha256, upload_name) VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8)",
      server, media_id, uploader, now_ms, meta.content_type, static_cast<std::int64_t>(meta.size),
      meta.sha256, optional_name(meta));
}

void insert_pending(storage::Transaction& tx, std::string_view server, std::string_view media_id,
                    std::string_view uploader, std::int64_t now_ms, std::int64_t expires_ms) {
  tx.exec0(
      "INSERT INTO media (server_name, media_id, uploader, created_ts, unused_expires_ts) "
      "VALUES ($1, $2, $3, $4, $5)",
      server, media_id, uploader, now_ms, expires_ms);
}

std::int64_t count_pending(storage::Transaction& tx, std::string_view uploader,
                           std::int64_t now_ms) {
  return tx
      .exec1(
          "SELECT count(*) FROM media WHERE uploader = $1 AND uploaded_ts IS NULL "
          "AND unused_expires_ts > $2",
          uploader, now_ms)[0]
      .as<std::int64_t>();
}

std::size_t delete_expired_pending(storage::Transaction& tx, std::string_view uploader,
                                   std::int64_t now_ms) {
  return tx.exec0(
      "DELETE FROM media WHERE uploader = $1 AND uploaded_ts IS NULL "
      "AND unused_expires_ts <= $2 AND upload_claimed_ts IS NULL",
      uploader, now_ms);
}

bool claim_pending(storage::Transaction& tx, std::string_view server, std::string_view media_id,
                   std::int64_t now_ms, std::int64_t stale_before_ms) {
  return tx.exec0(
             "UPDATE media SET upload_claimed_ts = $3 "
             "WHERE server_name = $1 AND media_id = $2 AND uploaded_ts IS NULL "
             "AND unused_expires_ts > $3 "
             "AND (upload_claimed_ts IS NULL OR upload_claimed_ts < $4)",
             server, media_id, now_ms, stale_before_ms) == 1;
}

void release_claim(storage::Transaction& tx, std::string_view server, std::string_view media_id) {
  tx.exec0(
      "UPDATE media SET upload_claimed_ts = NULL "
      "WHERE server_name = $1 AND media_id = $2 AND uploaded_ts IS NULL",
      server, media_id);
}

bool complete_pending(storage::Transaction& tx, std::string_view server, std::string_view media_id,
                      const UploadedMeta& meta, std::int64_t now_ms) {
  return tx.exec0(
             "UPDATE media SET uploaded_ts = $3, content_type = $4, size = $5, sha256 = $6, "
             "upload_name = $7, upload_claimed_ts = NULL, unused_expires_ts = NULL "
             "WHERE server_name = $1 AND media_id = $2 AND uploaded_ts IS NULL",
             server, media_id, now_ms, meta.content_type, static_cast<std::int64_t>(meta.size),
             meta.sha256, optional_name(meta)) == 1;
}

std::optional<ThumbnailRecord> find_thumbnail(storage::Transaction& tx, std::string_view server,
                                              std::string_view media_id, int width, int height,
                                              std::string_view method) {
  auto row = tx.exec_optional(
      "SELECT content_type, size FROM media_thumbnails WHERE server_name = $1 AND media_id = $2 "
      "AND width = $3 AND height = $4 AND method = $5",
      server, media_id, width, height, method);
  if (!row) return std::nullopt;
  return ThumbnailRecord{(*row)[0].as<std::string>(),
                         static_cast<std::uint64_t>((*row)[1].as<std::int64_t>())};
}

void insert_thumbnail(storage::Transaction& tx, std::string_view server, std::string_view media_id,
                      int width, int height, std::string_view method,
                      const ThumbnailRecord& thumbnail, std::int64_t now_ms) {
  // Two nodes may make the same thumbnail at once; both stored the same
  // bytes under the same key, so the second row is simply not needed.
  tx.exec0(
      "INSERT INTO media_thumbnails (server_name, media_id, width, height, method, content_type, "
      "size, created_ts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
      server, media_id, width, height, method, thumbnail.content_type,
      static_cast<std::int64_t>(thumbnail.size), now_ms);
}

}  // namespace eltrix::media
