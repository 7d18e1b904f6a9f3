// The encrypted framing of authenticated mesh connections.
#include "cluster/secure_stream.h"

#include "cluster/frame.h"

#include <catch2/catch.hpp>

using namespace eltrix::cluster;

namespace {
Key key_of(char c) {
  Key key{};
  key.fill(static_cast<std::uint8_t>(c));
  return key;
}
/// The bodies of the frames in `stream` (length prefixes removed).
std::vector<std::string> bodies_of(const std::string& stream) {
  FrameReader reader;
  reader.feed(stream);
  std::vector<std::string> out;
  while (auto body = reader.next()) out.push_back(*body);
  return out;
}
}  // namespace

TEST_CASE("mesh stream: frames open in order, and nothing of them is readable on the wire",
          "[cluster][stream]") {
  SendStream send(key_of('k'));
  std::string wire;
  const std::string secret = R"({"k":["room:!secret:example.org","user:@alice:example.org"]})";
  send.seal(wire, 32, secret);
  send.seal(wire, 16, "");
  send.seal(wire, 33, "typing");
  CHECK(wire.find("secret") == std::string::npos);
  CHECK(wire.find("alice") == std::string::npos);
  CHECK(wire.find("typing") == std::string::npos);

  const auto bodies = bodies_of(wire);
  REQUIRE(bodies.size() == 3);
  CHECK(bodies[0].size() == 1 + secret.size() + kStreamOverheadBytes);
  ReceiveStream receive(key_of('k'), send.header());
  auto first = receive.open(bodies[0]);
  REQUIRE(first);
  CHECK(first->type == 32);
  CHECK(first->payload == secret);
  auto ping = receive.open(bodies[1]);
  REQUIRE(ping);
  CHECK(ping->type == 16);
  CHECK(ping->payload.empty());
  CHECK(receive.open(bodies[2])->payload == "typing");
}

TEST_CASE(
    "mesh stream: a wrong key or header, a tampered, replayed, dropped or reordered frame "
    "fails, and the stream stays failed",
    "[cluster][stream]") {
  SendStream send(key_of('k'));
  std::string wire;
  for (int i = 0; i < 3; ++i) send.seal(wire, 32, "message " + std::to_string(i));
  const auto bodies = bodies_of(wire);

  SECTION("wrong key") {
    ReceiveStream receive(key_of('x'), send.header());
    CHECK_FALSE(receive.open(bodies[0]));
  }
  SECTION("another stream's header (another connection)") {
    SendStream other(key_of('k'));
    ReceiveStream receive(key_of('k'), other.header());
    CHECK_FALSE(receive.open(bodies[0]));
  }
  SECTION("each byte tampered") {
    for (std::size_t i = 0; i < bodies[0].size(); ++i) {
      ReceiveStream receive(key_of('k'), send.header());
      std::string tampered = bodies[0];
      tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
      CHECK_FALSE(receive.open(tampered));
    }
  }
  SECTION("replayed") {
    ReceiveStream receive(key_of('k'), send.header());
    REQUIRE(receive.open(bodies[0]));
    CHECK_FALSE(receive.open(bodies[0]));
    CHECK_FALSE(receive.open(bodies[1]));  // failed for good
  }
  SECTION("dropped or reordered") {
    ReceiveStream receive(key_of('k'), send.header());
    CHECK_FALSE(receive.open(bodies[1]));
  }
  SECTION("too short") {
    ReceiveStream receive(key_of('k'), send.header());
    CHECK_FALSE(receive.open(bodies[0].substr(0, kStreamOverheadBytes)));
    ReceiveStream again(key_of('k'), send.header());
    CHECK_FALSE(again.open(""));
  }
}

TEST_CASE("mesh stream: a payload beyond the frame limit is refused before sending",
          "[cluster][stream]") {
  SendStream send(key_of('k'));
  std::string wire;
  CHECK_THROWS_AS(send.seal(wire, 32, std::string(kMaxPayloadBytes + 1, 'x')), std::length_error);
  CHECK(wire.empty());
  send.seal(wire, 32, std::string(kMaxPayloadBytes, 'x'));
  CHECK(wire.size() == 4 + kMaxFrameBytes);
  ReceiveStream receive(key_of('k'), send.header());
  CHECK(receive.open(bodies_of(wire)[0])->payload.size() == kMaxPayloadBytes);
}
