// White-box tests of media-store-s3's listings (listing.h): the XML answers of
// ListObjectsV2 and ListMultipartUploads (as AWS documents them) and the
// inverse of the key mapping.
#include "../../../plugins/media-store/s3/listing.h"
#include "../../../plugins/media-store/s3/object_key.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace eltrix::contract {
namespace {

using namespace media_s3;

TEST_CASE("s3 listing: ListObjectsV2 answers", "[media_store][s3][listing]") {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>p/example.org/abc</Key><LastModified>2026-12-07T14:30:05.123Z</LastModified>
    <ETag>"x"</ETag><Size>42</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>p/thumbnails/example.org/abc/32x32-crop</Key>
    <LastModified>2026-12-07T14:30:06Z</LastModified><Size>7</Size></Contents>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>)";
  auto listing = parse_object_listing(xml);
  REQUIRE(listing);
  REQUIRE(listing->objects.size() == 2);
  CHECK(listing->objects[0].s3_key == "p/example.org/abc");
  CHECK(listing->objects[0].size == 42);
  CHECK(listing->objects[0].modified_ms == 1796653805123);
  CHECK(listing->objects[1].modified_ms == 1796653806000);
  CHECK(listing->next_continuation_token == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");

  auto last = parse_object_listing(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<NextContinuationToken>ignored</NextContinuationToken></ListBucketResult>");
  REQUIRE(last);
  CHECK(last->objects.empty());
  CHECK(last->next_continuation_token.empty());

  CHECK_FALSE(parse_object_listing("<Error><Code>AccessDenied</Code></Error>"));
  CHECK_FALSE(parse_object_listing("not xml"));
  CHECK_FALSE(parse_object_listing(""));
}

TEST_CASE("s3 listing: ListMultipartUploads answers", "[media_store][s3][listing]") {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>bucket</Bucket><IsTruncated>true</IsTruncated>
  <NextKeyMarker>p/example.org/b</NextKeyMarker><NextUploadIdMarker>u2</NextUploadIdMarker>
  <Upload><Key>p/example.org/a</Key><UploadId>u1</UploadId>
    <Initiated>2026-12-07T10:00:00.000Z</Initiated></Upload>
  <Upload><Key>p/example.org/b</Key><UploadId>u2</UploadId>
    <Initiated>garbage</Initiated></Upload>
</ListMultipartUploadsResult>)";
  auto listing = parse_upload_listing(xml);
  REQUIRE(listing);
  // An upload whose start cannot be read is skipped: never taken as old.
  REQUIRE(listing->uploads.size() == 1);
  CHECK(listing->uploads[0].s3_key == "p/example.org/a");
  CHECK(listing->uploads[0].upload_id == "u1");
  CHECK(listing->uploads[0].initiated_ms == 1796637600000);
  CHECK(listing->next_key_marker == "p/example.org/b");
  CHECK(listing->next_upload_id_marker == "u2");
  CHECK_FALSE(parse_upload_listing("<ListBucketResult/>"));
}

TEST_CASE("s3 listing: timestamps", "[media_store][s3][listing]") {
  CHECK(parse_s3_time("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_s3_time("1970-01-01T00:00:01.5Z") == 1500);
  CHECK_FALSE(parse_s3_time("1970-01-01 00:00:00Z"));
  CHECK_FALSE(parse_s3_time("1970-01-01T00:00:00"));
  CHECK_FALSE(parse_s3_time(""));
}

TEST_CASE("s3 listing: object keys map back to media keys", "[media_store][s3][listing]") {
  const std::vector<std::string> keys = {"example.org/abc", "thumbnails/example.org/abc/32x32-crop",
                                         "a/" + std::string(450, 'x')};
  for (const auto& key : keys) {
    CHECK(media_key_of(s3_object_key(key)) == key);
  }
  // Objects this store would never write are not reported.
  CHECK(media_key_of("other tool/with space").empty());
  CHECK(media_key_of("a//b").empty());
  CHECK(media_key_of("short~/piece").empty());  // "~/" only after a full-length piece
  CHECK(media_key_of("").empty());
}

}  // namespace
}  // namespace eltrix::contract
