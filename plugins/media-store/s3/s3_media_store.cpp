#include "s3_media_store.h"

#include "object_key.h"

#include <algorithm>
#include <chrono>

namespace eltrix::media_s3 {
namespace {

constexpr std::size_t kFirstBufferSize = 64U * 1024U;

void check_key(std::string_view key) {
  if (!plugin::is_valid_object_key(key)) {
    std::string shown(key.substr(0, 64));
    for (char& c : shown) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    throw plugin::Error(
        plugin::ErrorKind::invalid_argument,
        "media-store-s3: invalid object key '" + shown + (key.size() > 64 ? "...'" : "'"));
  }
}

/// Reads `source` into `buffer` until it holds `limit` bytes or the source
/// ends; returns whether it ended. The buffer grows by doubling up to `limit`
/// and never beyond, so a small object costs a small buffer.
bool fill(plugin::ByteSource& source, std::string& buffer, std::size_t limit) {
  buffer.clear();
  while (buffer.size() < limit) {
    if (buffer.capacity() == buffer.size()) {
      buffer.reserve(std::min(limit, std::max(kFirstBufferSize, buffer.capacity() * 2)));
    }
    const std::size_t old = buffer.size();
    const std::size_t room = std::min(limit, buffer.capacity()) - old;
    buffer.resize(old + room);
    const std::size_t got = source.read(buffer.data() + old, room);
    if (got > room) {
      throw plugin::Error(plugin::ErrorKind::permanent,
                          "media-store-s3: the byte source returned more than it was asked for");
    }
    buffer.resize(old + got);
    if (got == 0) return true;
  }
  return false;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::size_t part_size_of(const Settings& settings) {
  return static_cast<std::size_t>(settings.part_size);
}

class EmptySource final : public plugin::ByteSource {
 public:
  std::size_t read(char* /*buffer*/, std::size_t /*capacity*/) override { return 0; }
};

class ObjectSource final : public plugin::ByteSource {
 public:
  explicit ObjectSource(std::unique_ptr<BodyStream> stream) : stream_(std::move(stream)) {}
  std::size_t read(char* buffer, std::size_t capacity) override {
    return stream_->read(buffer, capacity);
  }

 private:
  std::unique_ptr<BodyStream> stream_;
};

}  // namespace

S3MediaStore::S3MediaStore(plugin::Host& host, const plugin::Config& config)
    : host_(host), client_(parse_settings(config), host) {
  // No request here: an unreachable S3 at start-up is reported by health()
  // (and /health/ready) rather than refusing to start.
  host_.info("S3 media store ready",
             {{"bucket", settings().bucket},
              {"endpoint", settings().endpoint.url()},
              {"addressing", settings().endpoint.path_style ? "path-style" : "virtual-host"},
              {"region", settings().region},
              {"part_size", std::to_string(settings().part_size)}});
}

std::string S3MediaStore::object_key_of(std::string_view key) const {
  return settings().prefix + s3_object_key(key);
}

void S3MediaStore::validate(const plugin::Config& config,
                            std::vector<plugin::ConfigProblem>& problems) {
  check_settings(config, problems);
}

plugin::Health S3MediaStore::health() {
  std::lock_guard lock(health_mutex_);
  const auto now = host_.steady_now();
  if (health_valid_ && now - health_checked_ < kHealthCacheTtl) return health_cache_;
  const std::string where = "bucket '" + settings().bucket + "' at " + settings().endpoint.url();
  plugin::Health result;
  try {
    Request request{.op = Op::list_bucket,
                    .method = "GET",
                    .key = "",
                    .query = {{"list-type", "2"}, {"max-keys", "1"}}};
    auto response = client_.call(request, "", 0);
    if (response.status == 200) {
      result = {plugin::HealthStatus::ok, where + " reachable"};
    } else {
      auto info = S3Client::error_of(response);
      client_.log_failure(Op::list_bucket, "", info, 0);
      result = {plugin::HealthStatus::failed, "S3 " + where + ": " + info.describe()};
    }
  } catch (const std::exception& e) {
    result = {plugin::HealthStatus::failed, "S3 " + where + ": " + e.what()};
  }
  health_cache_ = result;
  health_checked_ = now;
  health_valid_ = true;
  return result;
}

std::uint64_t S3MediaStore::put(std::string_view key, plugin::ByteSource& source,
                                const plugin::PutOptions& options) {
  check_key(key);
  const std::string s3_key = object_key_of(key);
  const std::size_t part_size = part_size_of(settings());
  std::string buffer;
  if (options.expected_size) {
    // Room for the whole object when it is announced small (plus one byte to
    // see the end), so the common case reads without regrowing.
    buffer.reserve(
        static_cast<std::size_t>(std::min<std::uint64_t>(part_size, *options.expected_size + 1)));
  }
  const bool done = fill(source, buffer, part_size);
  if (done) {
    put_single(s3_key, key, buffer, options.content_type);
    return buffer.size();
  }
  return put_multipart(s3_key, key, source, buffer, done, options.content_type);
}

void S3MediaStore::put_single(const std::string& s3_key, std::string_view key,
                              std::string_view body, std::string_view content_type) {
  Request request{.op = Op::put_object, .method = "PUT", .key = s3_key, .body = body};
  if (!content_type.empty()) request.headers.emplace_back("content-type", content_type);
  auto response = client_.call(request, key);
  if (response.status != 200) {
    auto info = S3Client::error_of(response);
    client_.log_failure(Op::put_object, key, info, 0);
    throw to_plugin_error(info, "PUT", key);
  }
  client_.count_written(body.size());
}

std::uint64_t S3MediaStore::put_multipart(const std::string& s3_key, std::string_view key,
                                          plugin::ByteSource& source, std::string& buffer,
                                          bool source_done, std::string_view content_type) {
  Request create{.op = Op::create_multipart,
                 .method = "POST",
                 .key = s3_key,
                 .query = {{"uploads", ""}},
                 .repeatable = false};
  if (!content_type.empty()) create.headers.emplace_back("content-type", content_type);
  auto created = client_.call(create, key);
  auto upload_id = created.status == 200 ? xml_text(created.body, "UploadId") : std::nullopt;
  if (!upload_id || upload_id->empty()) {
    auto info = S3Client::error_of(created);
    if (created.status == 200) info.message = "no UploadId in the answer";
    client_.log_failure(Op::create_multipart, key, info, 0);
    throw to_plugin_error(info, "CreateMultipartUpload", key);
  }

  std::vector<std::string> etags;
  std::uint64_t total = 0;
  try {
    while (true) {
      if (etags.size() >= kMaxParts) {
        throw plugin::Error(plugin::ErrorKind::invalid_argument,
                            "media-store-s3: '" + std::string(key) + "' needs more than " +
                                std::to_string(kMaxParts) +
                                " parts; raise s3.part_size_mb to store objects this large");
      }
      const std::string part_number = std::to_string(etags.size() + 1);
      Request part{.op = Op::upload_part,
                   .method = "PUT",
                   .key = s3_key,
                   .query = {{"partNumber", part_number}, {"uploadId", *upload_id}},
                   .body = buffer};
      auto response = client_.call(part, key);
      std::string etag = response.head.get("ETag", "");
      if (response.status != 200 || etag.empty()) {
        auto info = S3Client::error_of(response);
        if (response.status == 200) info.message = "no ETag for part " + part_number;
        client_.log_failure(Op::upload_part, key, info, 0);
        throw to_plugin_error(info, "UploadPart " + part_number + " of", key);
      }
      etags.push_back(std::move(etag));
      total += buffer.size();
      client_.count_written(buffer.size());
      if (source_done) break;
      source_done = fill(source, buffer, part_size_of(settings()));
      if (buffer.empty()) break;  // the source ended exactly at a part boundary
    }
    // The buffer is no longer needed: free it before the last round trip.
    std::string().swap(buffer);

    std::string xml = "<CompleteMultipartUpload>";
    for (std::size_t i = 0; i < etags.size(); ++i) {
      xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
             xml_escape(etags[i]) + "</ETag></Part>";
    }
    xml += "</CompleteMultipartUpload>";
    Request complete{.op = Op::complete_multipart,
                     .method = "POST",
                     .key = s3_key,
                     .query = {{"uploadId", *upload_id}},
                     .headers = {{"content-type", "application/xml"}},
                     .body = xml};
    auto response = client_.call(complete, key);
    // S3 may answer 200 and still report an error in the body.
    if (response.status != 200 || xml_text(response.body, "Code").has_value()) {
      auto info = S3Client::error_of(response);
      client_.log_failure(Op::complete_multipart, key, info, 0);
      throw to_plugin_error(info, "CompleteMultipartUpload", key);
    }
  } catch (...) {
    abort_multipart(s3_key, key, *upload_id);
    throw;
  }
  return total;
}

void S3MediaStore::abort_multipart(const std::string& s3_key, std::string_view key,
                                   const std::string& upload_id) {
  try {
    Request abort{.op = Op::abort_multipart,
                  .method = "DELETE",
                  .key = s3_key,
                  .query = {{"uploadId", upload_id}}};
    auto response = client_.call(abort, key);
    if (response.status != 204 && response.status != 200 && response.status != 404) {
      client_.log_failure(Op::abort_multipart, key, S3Client::error_of(response), 0);
    }
  } catch (const std::exception& e) {
    // The upload stays pending until a bucket lifecycle rule removes it.
    host_.error("cannot abort a multipart upload",
                {{"key", key}, {"upload_id", upload_id}, {"error", e.what()}});
  }
}

std::unique_ptr<plugin::ByteSource> S3MediaStore::get(std::string_view key, std::uint64_t offset,
                                                      std::optional<std::uint64_t> length) {
  check_key(key);
  const std::string s3_key = object_key_of(key);
  if (length && *length == 0) {
    if (!head(s3_key, key)) return nullptr;
    return std::make_unique<EmptySource>();
  }
  Request request{.op = Op::get_object, .method = "GET", .key = s3_key};
  if (offset > 0 || length) {
    std::string range = "bytes=" + std::to_string(offset) + "-";
    if (length) range += std::to_string(offset + *length - 1);
    request.headers.emplace_back("range", range);
  }
  auto opened = client_.open(request, key);
  const int status = opened.response.status;
  if (opened.stream) return std::make_unique<ObjectSource>(std::move(opened.stream));
  auto info = S3Client::error_of(opened.response);
  if (status == 404 && info.code != "NoSuchBucket") return nullptr;
  // 416: the range starts at or past the end of an object that exists.
  if (status == 416) return std::make_unique<EmptySource>();
  client_.log_failure(Op::get_object, key, info, 0);
  throw to_plugin_error(info, "GET", key);
}

std::optional<plugin::ObjectInfo> S3MediaStore::head(const std::string& s3_key,
                                                     std::string_view key) {
  Request request{.op = Op::head_object, .method = "HEAD", .key = s3_key};
  auto response = client_.call(request, key);
  if (response.status == 404) return std::nullopt;
  if (response.status != 200) {
    auto info = S3Client::error_of(response);
    client_.log_failure(Op::head_object, key, info, 0);
    throw to_plugin_error(info, "HEAD", key);
  }
  plugin::ObjectInfo info;
  info.size = response.head.hasContentLength()
                  ? static_cast<std::uint64_t>(response.head.getContentLength64())
                  : 0;
  info.content_type = response.head.get("Content-Type", "");
  return info;
}

std::optional<plugin::ObjectInfo> S3MediaStore::stat(std::string_view key) {
  check_key(key);
  return head(object_key_of(key), key);
}

bool S3MediaStore::exists(std::string_view key) {
  return stat(key).has_value();
}

bool S3MediaStore::erase(std::string_view key) {
  check_key(key);
  const std::string s3_key = object_key_of(key);
  if (!head(s3_key, key)) return false;
  Request request{.op = Op::delete_object, .method = "DELETE", .key = s3_key};
  auto response = client_.call(request, key);
  if (response.status == 404) return false;
  if (response.status != 204 && response.status != 200) {
    auto info = S3Client::error_of(response);
    client_.log_failure(Op::delete_object, key, info, 0);
    throw to_plugin_error(info, "DELETE", key);
  }
  return true;
}

plugin::ObjectPage S3MediaStore::list(std::string_view cursor, std::size_t limit) {
  // S3 answers at most 1000 keys per page.
  const std::size_t max_keys = std::clamp<std::size_t>(limit, 1, 1000);
  Request request{.op = Op::list_objects,
                  .method = "GET",
                  .key = "",
                  .query = {{"list-type", "2"}, {"max-keys", std::to_string(max_keys)}}};
  if (!settings().prefix.empty()) request.query.emplace_back("prefix", settings().prefix);
  if (!cursor.empty()) request.query.emplace_back("continuation-token", std::string(cursor));
  auto response = client_.call(request, "");
  if (response.status != 200) {
    auto info = S3Client::error_of(response);
    client_.log_failure(Op::list_objects, "", info, 0);
    throw to_plugin_error(info, "ListObjectsV2", "");
  }
  auto listing = parse_object_listing(response.body);
  if (!listing) {
    throw plugin::Error(plugin::ErrorKind::transient,
                        "media-store-s3: ListObjectsV2 answered something that is not a listing");
  }
  plugin::ObjectPage page;
  page.next_cursor = std::move(listing->next_continuation_token);
  for (auto& object : listing->objects) {
    std::string_view s3_key = object.s3_key;
    if (!s3_key.starts_with(settings().prefix)) continue;
    s3_key.remove_prefix(settings().prefix.size());
    std::string key = media_key_of(s3_key);
    if (key.empty()) continue;  // not written by this store
    page.objects.push_back(
        {.key = std::move(key), .modified_ms = object.modified_ms, .size = object.size});
  }
  return page;
}

std::size_t S3MediaStore::remove_abandoned_uploads(std::chrono::seconds older_than) {
  const std::int64_t cutoff_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     (host_.wall_now() - older_than).time_since_epoch())
                                     .count();
  std::size_t removed = 0;
  std::string key_marker;
  std::string upload_id_marker;
  // Bounded: at most this many pages per call (1000 uploads each); the next
  // sweep goes on from the start, where the aborted ones are gone.
  for (int page = 0; page < 100; ++page) {
    Request request{.op = Op::list_uploads, .method = "GET", .key = "", .query = {{"uploads", ""}}};
    if (!settings().prefix.empty()) request.query.emplace_back("prefix", settings().prefix);
    if (!key_marker.empty()) request.query.emplace_back("key-marker", key_marker);
    if (!upload_id_marker.empty()) request.query.emplace_back("upload-id-marker", upload_id_marker);
    auto response = client_.call(request, "");
    if (response.status != 200) {
      auto info = S3Client::error_of(response);
      if (response.status == 501 || info.code == "NotImplemented") {
        host_.debug(
            "the S3 server cannot list multipart uploads; a bucket lifecycle rule "
            "(AbortIncompleteMultipartUpload) must remove abandoned ones",
            {{"bucket", settings().bucket}});
        return removed;
      }
      client_.log_failure(Op::list_uploads, "", info, 0);
      throw to_plugin_error(info, "ListMultipartUploads", "");
    }
    auto listing = parse_upload_listing(response.body);
    if (!listing) {
      throw plugin::Error(
          plugin::ErrorKind::transient,
          "media-store-s3: ListMultipartUploads answered something that is not a listing");
    }
    for (const auto& upload : listing->uploads) {
      // Uploads in progress (here or on another node) are younger than the
      // cutoff: only the ones a crashed put left behind are old.
      if (upload.initiated_ms >= cutoff_ms) continue;
      if (!upload.s3_key.starts_with(settings().prefix)) continue;
      abort_multipart(upload.s3_key, upload.s3_key, upload.upload_id);
      ++removed;
    }
    if (listing->next_key_marker.empty() && listing->next_upload_id_marker.empty()) break;
    key_marker = std::move(listing->next_key_marker);
    upload_id_marker = std::move(listing->next_upload_id_marker);
  }
  return removed;
}

}  // namespace eltrix::media_s3
