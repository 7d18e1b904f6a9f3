// media-store-s3: objects in one S3 bucket (AWS, or any S3-compatible server
// such as MinIO through s3.endpoint, path-style).
//
// put() reads the source into one buffer of at most s3.part_size_mb: a source
// that ends within it is sent as one PUT; a longer one becomes a multipart
// upload, one part at a time from the same buffer, completed at the end and
// aborted on any failure (the source throwing included), so memory stays
// bounded by the part size and no partial object ever becomes visible.
// get() streams a ranged GET; stat()/exists() are HEADs; erase() is a HEAD
// then a DELETE (S3's DELETE does not say whether the object existed).
// health() lists at most one key of the bucket (a GET, so that an error comes
// with S3's error code; a HEAD answer has no body) and caches the answer.
#pragma once

#include "listing.h"
#include "s3_client.h"
#include "s3_settings.h"

#include <eltrix/plugin/config.h>
#include <eltrix/plugin/host.h>
#include <eltrix/plugin/media_store.h>

#include <chrono>
#include <mutex>
#include <vector>

namespace eltrix::media_s3 {

/// How long health() reuses its last answer.
inline constexpr std::chrono::seconds kHealthCacheTtl{10};
/// Most parts in one multipart upload (S3's limit).
inline constexpr std::uint64_t kMaxParts = 10000;

class S3MediaStore final : public plugin::MediaStore {
 public:
  static constexpr const char* kDescription =
      "media in an S3 bucket (AWS or S3-compatible: MinIO, ...), SigV4-signed, streamed "
      "multipart uploads";
  static constexpr bool kThreadSafe = true;
  static constexpr std::uint64_t kCapabilities = plugin::kMediaShared;

  S3MediaStore(plugin::Host& host, const plugin::Config& config);
  ~S3MediaStore() override = default;
  S3MediaStore(const S3MediaStore&) = delete;
  S3MediaStore& operator=(const S3MediaStore&) = delete;
  S3MediaStore(S3MediaStore&&) = delete;
  S3MediaStore& operator=(S3MediaStore&&) = delete;

  /// The plugin's validate hook: no connection, no side effect.
  static void validate(const plugin::Config& config, std::vector<plugin::ConfigProblem>& problems);

  plugin::Health health() override;
  std::uint64_t put(std::string_view key, plugin::ByteSource& source,
                    const plugin::PutOptions& options) override;
  std::unique_ptr<plugin::ByteSource> get(std::string_view key, std::uint64_t offset,
                                          std::optional<std::uint64_t> length) override;
  std::optional<plugin::ObjectInfo> stat(std::string_view key) override;
  bool exists(std::string_view key) override;
  bool erase(std::string_view key) override;
  /// ListObjectsV2 under s3.prefix; the cursor is S3's continuation token.
  plugin::ObjectPage list(std::string_view cursor, std::size_t limit) override;
  /// Aborts incomplete multipart uploads under s3.prefix initiated more than
  /// `older_than` ago (ListMultipartUploads). A server without that listing
  /// (s3rver) answers NotImplemented: then nothing is removed, and a bucket
  /// lifecycle rule (AbortIncompleteMultipartUpload) has to do it.
  std::size_t remove_abandoned_uploads(std::chrono::seconds older_than) override;

  [[nodiscard]] const Settings& settings() const { return client_.settings(); }

 private:
  /// s3.prefix + s3_object_key(key).
  [[nodiscard]] std::string object_key_of(std::string_view key) const;
  std::optional<plugin::ObjectInfo> head(const std::string& s3_key, std::string_view key);
  void put_single(const std::string& s3_key, std::string_view key, std::string_view body,
                  std::string_view content_type);
  std::uint64_t put_multipart(const std::string& s3_key, std::string_view key,
                              plugin::ByteSource& source, std::string& buffer, bool source_done,
                              std::string_view content_type);
  void abort_multipart(const std::string& s3_key, std::string_view key,
                       const std::string& upload_id);

  plugin::Host& host_;
  S3Client client_;

  std::mutex health_mutex_;
  std::chrono::steady_clock::time_point health_checked_{};
  plugin::Health health_cache_{plugin::HealthStatus::failed, "not checked yet"};
  bool health_valid_ = false;
};

}  // namespace eltrix::media_s3
