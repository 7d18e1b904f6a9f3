#include "media/orphan_sweep.h"
#include "media/media_id.h"

#include <catch2/catch.hpp>

using eltrix::media::OrphanCandidate;
using eltrix::media::parse_store_key;

TEST_CASE("orphan sweep: only this server's media and thumbnail keys are candidates") {
  const std::string segment = eltrix::media::server_key_segment("example.org:8448");
  const std::string id = "AbCdEfGhIjKlMnOpQrStUvWx";

  auto media = parse_store_key(eltrix::media::media_key("example.org:8448", id), segment);
  REQUIRE(media);
  CHECK(media->kind == OrphanCandidate::Kind::media);
  CHECK(media->media_id == id);

  auto thumb = parse_store_key(
      eltrix::media::thumbnail_key("example.org:8448", id, 320, 240, "scale"), segment);
  REQUIRE(thumb);
  CHECK(thumb->kind == OrphanCandidate::Kind::thumbnail);
  CHECK(thumb->media_id == id);
  CHECK(thumb->width == 320);
  CHECK(thumb->height == 240);
  CHECK(thumb->method == "scale");

  // Another server's objects (a bucket shared by two homeservers), keys of
  // other shapes and malformed thumbnails are never touched.
  CHECK_FALSE(parse_store_key(eltrix::media::media_key("other.org", id), segment));
  CHECK_FALSE(parse_store_key(segment, segment));
  CHECK_FALSE(parse_store_key(segment + "/", segment));
  CHECK_FALSE(parse_store_key(segment + "x/" + id, segment));
  CHECK_FALSE(parse_store_key(segment + "/" + id + "/extra", segment));
  CHECK_FALSE(parse_store_key("thumbnails/" + segment + "/" + id, segment));
  CHECK_FALSE(parse_store_key("thumbnails/" + segment + "/" + id + "/0x10-crop", segment));
  CHECK_FALSE(parse_store_key("thumbnails/" + segment + "/" + id + "/10x10-fit", segment));
  CHECK_FALSE(parse_store_key("thumbnails/" + segment + "/" + id + "/10-10xcrop", segment));
  CHECK_FALSE(parse_store_key("backups/" + segment + "/" + id, segment));

  // IDs in the spec's alphabet that we never issue (other lengths, '-', '_')
  // are accepted for lookup, but the sweep deletes only what it made.
  for (const std::string& other : {std::string("short"), std::string(23, 'a') + "-",
                                   std::string(25, 'a'), std::string("a_b")}) {
    INFO(other);
    REQUIRE(eltrix::media::is_valid_media_id(other));
    CHECK_FALSE(parse_store_key(eltrix::media::media_key("example.org:8448", other), segment));
    CHECK_FALSE(parse_store_key(
        eltrix::media::thumbnail_key("example.org:8448", other, 32, 32, "crop"), segment));
  }
}
