#include "cluster/frame.h"

#include <catch2/catch.hpp>

using namespace eltrix::cluster;

namespace {
std::string length_prefix(std::uint32_t length) {
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((length >> static_cast<unsigned>(shift)) & 0xFFU));
  }
  return out;
}
}  // namespace

TEST_CASE("cluster frames: plain frames round-trip", "[cluster][frame]") {
  const std::string frame = encode_plain_frame(1, "hello");
  CHECK(frame == length_prefix(6) + "\x01hello");
  auto parsed = plain_frame(frame.substr(4));
  REQUIRE(parsed);
  CHECK(parsed->type == 1);
  CHECK(parsed->payload == "hello");
  CHECK_FALSE(plain_frame(""));
}

TEST_CASE("cluster frames: the reader reassembles any split and refuses bad lengths",
          "[cluster][frame]") {
  const std::string stream =
      encode_plain_frame(32, "one") + encode_plain_frame(33, "two") + encode_plain_frame(1, "");
  // Byte by byte.
  FrameReader reader;
  std::vector<std::string> bodies;
  for (char c : stream) {
    reader.feed(std::string_view(&c, 1));
    while (auto body = reader.next()) bodies.push_back(*body);
  }
  REQUIRE(bodies.size() == 3);
  CHECK(plain_frame(bodies[0])->payload == "one");
  CHECK(plain_frame(bodies[1])->type == 33);
  CHECK(bodies[2] == "\x01");
  CHECK(reader.buffered() == 0);

  FrameReader oversized;
  oversized.feed(std::string("\x7f\xff\xff\xff", 4));
  CHECK_THROWS_AS(oversized.next(), FrameError);
  FrameReader empty;
  empty.feed(std::string("\0\0\0\0", 4));
  CHECK_THROWS_AS(empty.next(), FrameError);
}

TEST_CASE(
    "cluster frames: before authentication a frame is cut at the handshake limit, as soon "
    "as its length arrives",
    "[cluster][frame]") {
  FrameReader reader(kMaxHandshakeFrameBytes);
  CHECK(reader.max_body() == kMaxHandshakeFrameBytes);
  // The largest handshake frame passes.
  reader.feed(encode_plain_frame(1, std::string(kMaxHandshakeFrameBytes - 1, 'h')));
  CHECK(reader.next()->size() == kMaxHandshakeFrameBytes);
  // One byte more is refused on its 4-byte prefix alone: none of the
  // announced body is waited for or buffered.
  reader.feed(length_prefix(kMaxHandshakeFrameBytes + 1));
  CHECK_THROWS_AS(reader.next(), FrameError);
  FrameReader big(kMaxHandshakeFrameBytes);
  big.feed(length_prefix(kMaxFrameBytes));
  CHECK_THROWS_AS(big.next(), FrameError);

  // Once authenticated, the limit is raised for the same reader.
  FrameReader raised(kMaxHandshakeFrameBytes);
  raised.set_max_body(kMaxFrameBytes);
  raised.feed(length_prefix(kMaxFrameBytes) + "x");
  CHECK_FALSE(raised.next());  // waits for the rest
  CHECK(raised.buffered() == 5);
  FrameReader default_limit;
  CHECK(default_limit.max_body() == kMaxFrameBytes);
}
