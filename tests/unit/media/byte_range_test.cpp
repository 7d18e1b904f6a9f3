#include "media/byte_range.h"

#include <catch2/catch.hpp>

using namespace eltrix::media;
using Kind = RangeRequest::Kind;

namespace {
RangeRequest parse(const char* header, std::uint64_t size) {
  return parse_range(std::string_view(header), size);
}
}  // namespace

TEST_CASE("single byte ranges", "[media]") {
  auto r = parse("bytes=0-9", 100);
  REQUIRE(r.kind == Kind::partial);
  CHECK((r.range.offset == 0 && r.range.length == 10));
  r = parse("bytes=90-", 100);
  CHECK((r.kind == Kind::partial && r.range.offset == 90 && r.range.length == 10));
  r = parse("bytes=-5", 100);
  CHECK((r.kind == Kind::partial && r.range.offset == 95 && r.range.length == 5));
  r = parse("bytes=-500", 100);  // longer suffix than the file: all of it
  CHECK((r.kind == Kind::partial && r.range.offset == 0 && r.range.length == 100));
  r = parse("bytes=50-1000", 100);  // end clamped
  CHECK((r.kind == Kind::partial && r.range.offset == 50 && r.range.length == 50));
  r = parse("BYTES = 1-1", 100);
  CHECK(r.kind == Kind::whole);  // "bytes" "=" with spaces is not the syntax
  r = parse("Bytes=1-1", 100);
  CHECK((r.kind == Kind::partial && r.range.offset == 1 && r.range.length == 1));
  CHECK(content_range({10, 10}, 100) == "bytes 10-19/100");
}

TEST_CASE("unsatisfiable ranges", "[media]") {
  CHECK(parse("bytes=100-", 100).kind == Kind::unsatisfiable);
  CHECK(parse("bytes=100-200", 100).kind == Kind::unsatisfiable);
  CHECK(parse("bytes=-0", 100).kind == Kind::unsatisfiable);
  CHECK(parse("bytes=0-", 0).kind == Kind::unsatisfiable);
}

TEST_CASE("ranges we ignore (whole file)", "[media]") {
  CHECK(parse_range(std::nullopt, 100).kind == Kind::whole);
  for (const char* ignored :
       {"", "bytes", "bytes=", "bytes=-", "bytes=a-b", "bytes=5-1", "bytes=0-1,3-4", "items=0-1",
        "bytes=+1-2", "bytes=1--2", "bytes=99999999999999999999999-"}) {
    CHECK(parse(ignored, 100).kind == Kind::whole);
  }
}
