#include "cluster/frame.h"

#include <catch2/catch.hpp>

using namespace eltrix::cluster;

namespace {
Key key_of(char c) {
  Key key{};
  key.fill(static_cast<std::uint8_t>(c));
  return key;
}
/// A sealed frame without its 4-byte length prefix.
std::string body_of(const std::string& frame) {
  return frame.substr(4);
}
}  // namespace

TEST_CASE("cluster frames: seal and open", "[cluster][frame]") {
  const Key key = key_of('k');
  const std::string frame = seal_frame(key, 7, 32, R"({"k":["room:!a:x"]})");
  auto opened = open_frame(key, 7, body_of(frame));
  REQUIRE(opened);
  CHECK(opened->type == 32);
  CHECK(opened->payload == R"({"k":["room:!a:x"]})");
  // Empty payloads (pings) too.
  auto ping = open_frame(key, 0, body_of(seal_frame(key, 0, 16, "")));
  REQUIRE(ping);
  CHECK(ping->payload.empty());
}

TEST_CASE("cluster frames: a wrong key, a tampered byte or another sequence fails",
          "[cluster][frame]") {
  const Key key = key_of('k');
  const std::string body = body_of(seal_frame(key, 3, 32, "payload"));
  CHECK_FALSE(open_frame(key_of('x'), 3, body));  // another key
  CHECK_FALSE(open_frame(key, 2, body));          // replayed at another position
  CHECK_FALSE(open_frame(key, 4, body));
  for (std::size_t i = 0; i < body.size(); ++i) {
    std::string tampered = body;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    CHECK_FALSE(open_frame(key, 3, tampered));  // type, payload or tag
  }
  CHECK_FALSE(open_frame(key, 3, body.substr(0, 10)));  // shorter than a tag
  CHECK_FALSE(open_frame(key, 3, ""));
}

TEST_CASE("cluster frames: the reader reassembles any split and refuses bad lengths",
          "[cluster][frame]") {
  const Key key = key_of('k');
  const std::string stream = seal_frame(key, 0, 32, "one") + seal_frame(key, 1, 33, "two") +
                             encode_plain_frame(1, "hello");
  // Byte by byte.
  FrameReader reader;
  std::vector<std::string> bodies;
  for (char c : stream) {
    reader.feed(std::string_view(&c, 1));
    while (auto body = reader.next()) bodies.push_back(*body);
  }
  REQUIRE(bodies.size() == 3);
  CHECK(open_frame(key, 0, bodies[0])->payload == "one");
  CHECK(open_frame(key, 1, bodies[1])->payload == "two");
  CHECK(plain_frame(bodies[2])->type == 1);
  CHECK(reader.buffered() == 0);

  FrameReader oversized;
  oversized.feed(std::string("\x7f\xff\xff\xff", 4));
  CHECK_THROWS_AS(oversized.next(), FrameError);
  FrameReader empty;
  empty.feed(std::string("\0\0\0\0", 4));
  CHECK_THROWS_AS(empty.next(), FrameError);
}
