#include "media/media_service.h"

#include "errors/error.h"
#include "log/log.h"
#include "media/media_id.h"

#include <eltrix/plugin/error.h>

#include <algorithm>

namespace eltrix::media {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("media");
  return instance;
}

/// A claim on a pending upload older than this is taken as abandoned (the
/// node that held it died mid-upload).
constexpr std::chrono::hours kStaleClaim{1};

errors::Error not_found() {
  return errors::not_found("Media not found");
}

}  // namespace

MediaService::MediaService(storage::Database& db, Store& store, MediaSettings settings)
    : db_(db),
      store_(store),
      settings_(std::move(settings)),
      waits_(
          [this](const std::vector<std::string>& ids) {
            // On the primary: an upload through another node must be seen
            // whatever a replica's lag.
            std::vector<std::string> settled;
            const std::int64_t now = now_ms();
            db_.write([&](storage::Transaction& tx) {
              settled.clear();  // the body may run again (retries)
              for (const auto& id : ids) {
                const auto record = find_media(tx, settings_.server_name, id);
                if (!record || record->uploaded_ts ||
                    (record->unused_expires_ts && *record->unused_expires_ts <= now)) {
                  settled.push_back(id);
                }
              }
            });
            return settled;
          },
          static_cast<std::size_t>(std::max<std::int64_t>(settings_.max_download_waiters, 0)),
          settings_.pending_poll) {}

std::int64_t MediaService::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void MediaService::check_media_address(std::string_view server, std::string_view media_id) const {
  if (!is_valid_server_name(server)) {
    throw errors::invalid("M_INVALID_PARAM", "Malformed server name in the media address");
  }
  if (!is_valid_media_id(media_id)) {
    throw errors::invalid("M_INVALID_PARAM", "Malformed media ID");
  }
  if (server != settings_.server_name) {
    // Remote media needs federation, which this server does not speak yet.
    throw errors::not_found("Remote media is not available on this server");
  }
}

std::uint64_t MediaService::put_checked(std::string_view key, plugin::ByteSource& body,
                                        const UploadSource* upload,
                                        const plugin::PutOptions& options) {
  try {
    return store_.put(key, body, options);
  } catch (const std::exception& e) {
    // The body's own failure first: a store may wrap our exception in its own.
    if (upload != nullptr && upload->failure() == UploadSource::Failure::too_large) {
      throw errors::too_large("The upload exceeds the limit of " +
                              std::to_string(settings_.max_upload_bytes) + " bytes");
    }
    if (upload != nullptr && upload->failure() == UploadSource::Failure::truncated) {
      throw errors::invalid("M_UNKNOWN",
                            "The upload ended before its Content-Length; nothing was stored");
    }
    const auto* plugin_error = dynamic_cast<const plugin::Error*>(&e);
    const bool transient = plugin_error != nullptr && plugin_error->transient();
    logger().error("media store put failed", {{"store", store_.name()},
                                              {"key", std::string(key)},
                                              {"transient", transient ? "true" : "false"},
                                              {"error", e.what()}});
    if (transient) {
      throw errors::transient("The media store is unavailable; try again later")
          .with("retry_after_ms", 5000);
    }
    throw errors::internal("The media store could not store the upload");
  }
}

std::string MediaService::upload(const UploadRequest& request, UploadSource& body) {
  if (!body.has_data()) {
    throw errors::invalid("M_INVALID_PARAM", "The upload is empty");
  }
  std::string media_id = generate_media_id();
  const std::string key = media_key(settings_.server_name, media_id);
  put_checked(key, body, &body,
              {.content_type = request.content_type, .expected_size = request.declared_size});
  UploadedMeta meta{request.content_type, body.bytes(), body.sha256_hex(), request.file_name};
  try {
    db_.write([&](storage::Transaction& tx) {
      insert_uploaded(tx, settings_.server_name, media_id, request.uploader, meta, now_ms());
    });
  } catch (...) {
    // Without its row the object is unreachable: remove it.
    store_.erase_quietly(key);
    throw;
  }
  logger().info("media uploaded", {{"media_id", media_id},
                                   {"uploader", request.uploader},
                                   {"size", std::to_string(meta.size)},
                                   {"content_type", meta.content_type}});
  return media_id;
}

MediaService::Created MediaService::create(const std::string& uploader) {
  Created out;
  out.media_id = generate_media_id();
  const std::int64_t now = now_ms();
  out.unused_expires_at = now + settings_.pending_lifetime.count();
  const bool created = db_.write([&](storage::Transaction& tx) {
    delete_expired_pending(tx, uploader, now);
    if (count_pending(tx, uploader, now) >= settings_.max_pending_uploads) return false;
    insert_pending(tx, settings_.server_name, out.media_id, uploader, now, out.unused_expires_at);
    return true;
  });
  if (!created) {
    throw errors::Error(errors::Kind::limit_exceeded, "M_LIMIT_EXCEEDED",
                        "Too many pending uploads; upload the media already created first")
        .with("retry_after_ms", 60000);
  }
  return out;
}

void MediaService::upload_pending(const UploadRequest& request, std::string_view server,
                                  std::string_view media_id, UploadSource& body) {
  check_media_address(server, media_id);
  const std::int64_t now = now_ms();
  auto record =
      db_.write([&](storage::Transaction& tx) { return find_media(tx, server, media_id); });
  if (!record) throw not_found();
  if (record->uploader != request.uploader) {
    throw errors::forbidden("Only the creator of a media ID may upload to it");
  }
  if (record->uploaded_ts) {
    throw errors::conflict("M_CANNOT_OVERWRITE_MEDIA", "This media has already been uploaded");
  }
  if (record->unused_expires_ts && *record->unused_expires_ts <= now) throw not_found();
  const bool claimed = db_.write([&](storage::Transaction& tx) {
    return claim_pending(
        tx, server, media_id, now,
        now - std::chrono::duration_cast<std::chrono::milliseconds>(kStaleClaim).count());
  });
  if (!claimed) {
    throw errors::conflict("M_CANNOT_OVERWRITE_MEDIA",
                           "This media is being uploaded or has been uploaded already");
  }
  const auto release = [&] {
    try {
      db_.write([&](storage::Transaction& tx) { release_claim(tx, server, media_id); });
    } catch (const std::exception& e) {
      // The claim goes stale after kStaleClaim and can be taken again then.
      logger().warn("cannot release an upload claim",
                    {{"media_id", std::string(media_id)}, {"error", e.what()}});
    }
  };
  if (!body.has_data()) {
    release();
    throw errors::invalid("M_INVALID_PARAM", "The upload is empty");
  }
  const std::string key = media_key(server, media_id);
  try {
    put_checked(key, body, &body,
                {.content_type = request.content_type, .expected_size = request.declared_size});
  } catch (...) {
    release();
    throw;
  }
  UploadedMeta meta{request.content_type, body.bytes(), body.sha256_hex(), request.file_name};
  bool completed = false;
  try {
    completed = db_.write([&](storage::Transaction& tx) {
      return complete_pending(tx, server, media_id, meta, now_ms());
    });
  } catch (...) {
    store_.erase_quietly(key);
    release();
    throw;
  }
  if (!completed) {
    // Only possible if our claim went stale and another PUT finished first;
    // its bytes are the ones in the store now (same key), so leave them.
    throw errors::conflict("M_CANNOT_OVERWRITE_MEDIA", "This media has already been uploaded");
  }
  waits_.wake(media_id);  // downloads waiting here answer now
  logger().info("media uploaded", {{"media_id", std::string(media_id)},
                                   {"uploader", request.uploader},
                                   {"size", std::to_string(meta.size)},
                                   {"content_type", meta.content_type}});
}

std::optional<MediaRecord> MediaService::lookup(std::string_view media_id) {
  // A replica may not have the row yet (an upload a moment ago on another
  // node): a miss there is confirmed on the primary before it counts.
  auto record = db_.read(
      [&](storage::Transaction& tx) { return find_media(tx, settings_.server_name, media_id); });
  if (record && record->uploaded_ts) return record;
  return db_.write(
      [&](storage::Transaction& tx) { return find_media(tx, settings_.server_name, media_id); });
}

MediaRecord MediaService::find_uploaded(std::string_view server, std::string_view media_id) {
  check_media_address(server, media_id);
  auto record = lookup(media_id);
  // Quarantined media (admin API) is answered as if it did not exist.
  if (!record || record->quarantined) throw not_found();
  if (record->uploaded_ts) return std::move(*record);
  if (record->unused_expires_ts && *record->unused_expires_ts <= now_ms()) throw not_found();
  throw errors::Error(errors::Kind::not_ready, "M_NOT_YET_UPLOADED",
                      "The media has not been uploaded yet");
}

std::uint64_t MediaService::wait_for_upload(std::string_view media_id,
                                            std::chrono::milliseconds wait,
                                            std::function<void()> ready) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::min(wait, settings_.max_download_wait);
  return waits_.wait(std::string(media_id), deadline, std::move(ready));
}

std::unique_ptr<plugin::ByteSource> MediaService::open(std::string_view key, std::uint64_t offset,
                                                       std::optional<std::uint64_t> length) {
  std::unique_ptr<plugin::ByteSource> source;
  try {
    source = store_.get(key, offset, length);
  } catch (const std::exception& e) {
    const auto* plugin_error = dynamic_cast<const plugin::Error*>(&e);
    const bool transient = plugin_error != nullptr && plugin_error->transient();
    logger().error("media store get failed",
                   {{"store", store_.name()}, {"key", std::string(key)}, {"error", e.what()}});
    if (transient) {
      throw errors::transient("The media store is unavailable; try again later")
          .with("retry_after_ms", 5000);
    }
    throw errors::internal("The media store could not read the media");
  }
  if (!source) {
    // The row exists but the bytes are gone (removed behind our back, or a
    // store that lost them): say so in the log, and 404 to the client.
    logger().warn("media object missing from the store",
                  {{"store", store_.name()}, {"key", std::string(key)}});
    throw not_found();
  }
  return source;
}

}  // namespace eltrix::media
