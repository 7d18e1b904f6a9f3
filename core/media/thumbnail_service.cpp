#include "media/thumbnail_service.h"

#include "errors/error.h"
#include "log/log.h"
#include "media/media_id.h"
#include "media/thumbnail_metrics.h"

#include <array>
#include <cstring>

namespace eltrix::media {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("media");
  return instance;
}

// Generation takes milliseconds for small images and seconds for large ones.
constexpr std::array<double, 12> kThumbnailBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,    2.5,   5,    10,  30};

/// An in-memory byte string as a ByteSource (a thumbnail is small).
class StringSource final : public plugin::ByteSource {
 public:
  explicit StringSource(std::string_view data) : data_(data) {}
  std::size_t read(char* buffer, std::size_t capacity) override {
    const std::size_t n = std::min(capacity, data_.size() - position_);
    std::memcpy(buffer, data_.data() + position_, n);
    position_ += n;
    return n;
  }

 private:
  std::string_view data_;
  std::size_t position_ = 0;
};

}  // namespace

std::string_view method_name(ThumbnailMethod method) {
  return method == ThumbnailMethod::crop ? "crop" : "scale";
}

ThumbnailService::ThumbnailService(MediaService& media, ThumbnailLimits limits,
                                   metrics::Registry& metrics)
    : media_(media),
      thumbnailer_(limits),
      max_source_bytes_(limits.max_source_bytes != 0 ? limits.max_source_bytes
                                                     : kDefaultMaxThumbnailSourceBytes),
      seconds_(metrics.histogram("eltrix_media_thumbnail_seconds",
                                 "Time to generate one thumbnail (decode, resize, encode), in "
                                 "seconds.",
                                 {}, kThumbnailBuckets)),
      generated_(metrics.counter("eltrix_media_thumbnails_total",
                                 "Thumbnail requests, by whether the thumbnail was generated or "
                                 "reused from the media store.",
                                 {{"result", "generated"}})),
      reused_(metrics.counter("eltrix_media_thumbnails_total",
                              "Thumbnail requests, by whether the thumbnail was generated or "
                              "reused from the media store.",
                              {{"result", "reused"}})) {
  register_thumbnail_metrics(metrics);
}

ThumbnailService::Served ThumbnailService::get(std::string_view server, std::string_view media_id,
                                               int width, int height, ThumbnailMethod method) {
  const MediaRecord record = media_.find_uploaded(server, media_id);
  const ThumbnailSize size = choose_size(width, height, method);
  const std::string_view name = method_name(size.method);
  const std::string key = thumbnail_key(server, media_id, size.width, size.height, name);

  auto stored = media_.db().read([&](storage::Transaction& tx) {
    return find_thumbnail(tx, server, media_id, size.width, size.height, name);
  });
  if (stored) {
    // A thumbnail row whose object is gone is simply made again.
    try {
      auto body = media_.open(key, 0, std::nullopt);
      reused_.inc();
      return {stored->content_type, stored->size, std::move(body)};
    } catch (const errors::Error& e) {
      if (e.kind() != errors::Kind::not_found) throw;
    }
  }
  return generate(record, size, key);
}

ThumbnailService::Served ThumbnailService::generate(const MediaRecord& record,
                                                    const ThumbnailSize& size,
                                                    const std::string& key) {
  if (record.size > max_source_bytes_) {
    throw errors::too_large("The media is too large to thumbnail (" + std::to_string(record.size) +
                            " bytes; the limit is " + std::to_string(max_source_bytes_) + ")");
  }
  // The source is read whole (libvips decodes from memory), bounded by
  // max_source_bytes; the decode itself is bounded by the thumbnailer.
  std::string source;
  source.reserve(record.size);
  {
    auto in = media_.open(media_key(record.server_name, record.media_id), 0, record.size);
    std::array<char, 64 * 1024> buffer{};
    while (std::size_t got = in->read(buffer.data(), buffer.size())) {
      source.append(buffer.data(), got);
      if (source.size() > max_source_bytes_) {
        throw errors::too_large("The media is too large to thumbnail");
      }
    }
  }

  Thumbnail thumbnail;
  const auto started = std::chrono::steady_clock::now();
  try {
    thumbnail = thumbnailer_.make(source, record.content_type, size);
  } catch (const ThumbnailError& e) {
    seconds_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    logger().info("thumbnail refused", {{"media_id", record.media_id},
                                        {"content_type", record.content_type},
                                        {"error", e.what()}});
    switch (e.kind()) {
      case ThumbnailError::Kind::too_large:
        throw errors::too_large("The image is too large to thumbnail (pixels or bytes)");
      case ThumbnailError::Kind::not_image:
        throw errors::invalid("M_UNKNOWN",
                              "Cannot generate a thumbnail: the media is not a JPEG, PNG, GIF "
                              "or WebP image");
      case ThumbnailError::Kind::failed:
      default:
        throw errors::invalid("M_UNKNOWN",
                              "Cannot generate a thumbnail: the image could not be decoded");
    }
  }
  seconds_.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  source.clear();
  source.shrink_to_fit();

  StringSource body(thumbnail.bytes);
  media_.put_checked(key, body, nullptr,
                     {.content_type = thumbnail.content_type,
                      .expected_size = static_cast<std::uint64_t>(thumbnail.bytes.size())});
  const std::string_view name = method_name(size.method);
  try {
    media_.db().write([&](storage::Transaction& tx) {
      insert_thumbnail(tx, record.server_name, record.media_id, size.width, size.height, name,
                       {thumbnail.content_type, thumbnail.bytes.size()}, MediaService::now_ms());
    });
  } catch (const std::exception& e) {
    // Served anyway, but not kept: an object without its row is never
    // reused, so it goes (the next request makes it again).
    logger().warn("cannot record a thumbnail",
                  {{"media_id", record.media_id}, {"error", e.what()}});
    media_.store().erase_quietly(key);
  }
  generated_.inc();

  // Serve the bytes just made, from memory.
  struct OwnedSource final : plugin::ByteSource {
    explicit OwnedSource(std::string bytes) : data(std::move(bytes)), view(data) {}
    std::size_t read(char* buffer, std::size_t capacity) override {
      return view.read(buffer, capacity);
    }
    std::string data;
    StringSource view;
  };
  const std::uint64_t size_bytes = thumbnail.bytes.size();
  return {thumbnail.content_type, size_bytes,
          std::make_unique<OwnedSource>(std::move(thumbnail.bytes))};
}

}  // namespace eltrix::media
