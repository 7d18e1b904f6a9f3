// The two S3 listings the orphan sweep needs (ListObjectsV2 and
// ListMultipartUploads): their XML answers parsed into plain structs, and
// the inverse of s3_object_key().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::media_s3 {

struct ListedObject {
  std::string s3_key;
  std::int64_t modified_ms = 0;  ///< LastModified, ms since the Unix epoch
  std::uint64_t size = 0;
};

struct ObjectListing {
  std::vector<ListedObject> objects;
  std::string next_continuation_token;  ///< empty unless truncated
};

struct ListedUpload {
  std::string s3_key;
  std::string upload_id;
  std::int64_t initiated_ms = 0;
};

struct UploadListing {
  std::vector<ListedUpload> uploads;
  /// Both empty unless truncated.
  std::string next_key_marker;
  std::string next_upload_id_marker;
};

/// Parses a ListBucketResult (ListObjectsV2); nullopt when `xml` is not one.
std::optional<ObjectListing> parse_object_listing(std::string_view xml);

/// Parses a ListMultipartUploadsResult; nullopt when `xml` is not one.
std::optional<UploadListing> parse_upload_listing(std::string_view xml);

/// "2009-10-12T17:50:30.000Z" (S3's ISO 8601 timestamps) as ms since the
/// Unix epoch; nullopt when malformed.
std::optional<std::int64_t> parse_s3_time(std::string_view text);

/// The media-store key an S3 object key (without s3.prefix) stands for: the
/// inverse of s3_object_key(). Empty when the object is not one this store
/// writes (other tools' objects in the same bucket are never reported).
std::string media_key_of(std::string_view s3_key);

}  // namespace eltrix::media_s3
