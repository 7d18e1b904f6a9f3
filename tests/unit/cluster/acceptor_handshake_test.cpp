// The acceptor's handshake state machine, fed bytes directly.
#include "cluster/acceptor_handshake.h"

#include "cluster/frame.h"
#include "cluster/handshake.h"

#include <catch2/catch.hpp>

using namespace eltrix::cluster;

namespace {
const Key kKey = derive_cluster_key(std::string(40, 'k'));

/// The bodies of the frames in `bytes`.
std::vector<Frame> frames_of(const std::string& bytes) {
  FrameReader reader;
  reader.feed(bytes);
  std::vector<Frame> out;
  while (auto body = reader.next()) out.push_back(*plain_frame(*body));
  return out;
}
}  // namespace

TEST_CASE("acceptor handshake: a dialer holding the key is authenticated, fed byte by byte",
          "[cluster][handshake]") {
  AcceptorHandshake hs(kKey, "acceptor");
  const EphemeralKey ours;
  Transcript t{ours.public_key, {}, "dialer", {}};
  const std::string hello =
      encode_plain_frame(kHelloFrame, encode_hello({ours.public_key, "dialer"}));
  std::string reply;
  for (char c : hello) reply += hs.receive(std::string_view(&c, 1));
  CHECK(hs.state() == AcceptorHandshake::State::awaiting_proof);
  auto answer = frames_of(reply);
  REQUIRE(answer.size() == 1);
  REQUIRE(answer[0].type == kChallengeFrame);
  auto challenge = decode_challenge(answer[0].payload);
  REQUIRE(challenge);
  t.acceptor_key = challenge->key;
  t.acceptor_id = challenge->node_id;
  CHECK(t.acceptor_id == "acceptor");
  CHECK(mac_equal(acceptor_mac(kKey, t),
                  std::string_view(reinterpret_cast<const char*>(challenge->mac.data()), 32)));

  SendStream stream(*stream_key(kKey, t, ours, true));
  std::string tail;
  stream.seal(tail, 32, "first message");  // may arrive with the PROOF
  reply = hs.receive(
      encode_plain_frame(kProofFrame, encode_proof({dialer_mac(kKey, t), stream.header()})) + tail);
  REQUIRE(hs.state() == AcceptorHandshake::State::authenticated);
  CHECK(hs.peer_id() == "dialer");
  answer = frames_of(reply);
  REQUIRE(answer.size() == 1);
  CHECK(answer[0].type == kWelcomeFrame);
  CHECK(mac_equal(welcome_mac(kKey, t), answer[0].payload));
  auto receive = hs.take_stream();
  hs.reader().set_max_body(kMaxFrameBytes);
  auto body = hs.reader().next();
  REQUIRE(body);
  CHECK(receive->open(*body)->payload == "first message");
}

TEST_CASE("acceptor handshake: anything else fails with the reason the metric counts",
          "[cluster][handshake]") {
  AcceptorHandshake hs(kKey, "acceptor");
  std::string reply;
  SECTION("not a HELLO") {
    reply = hs.receive(encode_plain_frame(kProofFrame, std::string(56, 'x')));
    CHECK(hs.failure() == "malformed");
  }
  SECTION("an oversized frame, on its length alone") {
    reply = hs.receive(std::string("\x00\x00\x01\x01", 4));
    CHECK(hs.failure() == "malformed");
  }
  SECTION("a garbled HELLO") {
    reply = hs.receive(encode_plain_frame(kHelloFrame, "ELTRIXC2short"));
    CHECK(hs.failure() == "malformed");
  }
  SECTION("a version 1 HELLO") {
    reply = hs.receive(encode_plain_frame(kHelloFrame, "ELTRIXC1" + std::string(36, 'x')));
    CHECK(hs.failure() == "old_version");
    CHECK(hs.detail().find("ELTRIXC1") != std::string::npos);
  }
  SECTION("a PROOF made with another key") {
    const Key wrong = derive_cluster_key(std::string(40, 'w'));
    const EphemeralKey ours;
    auto challenge = decode_challenge(frames_of(hs.receive(
        encode_plain_frame(kHelloFrame, encode_hello({ours.public_key, "d"}))))[0]
                                          .payload);
    REQUIRE(challenge);
    Transcript t{ours.public_key, challenge->key, "d", challenge->node_id};
    reply = hs.receive(encode_plain_frame(kProofFrame, encode_proof({dialer_mac(wrong, t), {}})));
    CHECK(hs.failure() == "bad_proof");
  }
  CHECK(hs.state() == AcceptorHandshake::State::failed);
  CHECK(reply.empty());
  // Nothing more is processed.
  CHECK(hs.receive(encode_plain_frame(kHelloFrame, "x")).empty());
}

TEST_CASE("acceptor handshake: our own dialer is told so and recognised", "[cluster][handshake]") {
  AcceptorHandshake hs(kKey, "same-node");
  const EphemeralKey ours;
  const std::string reply =
      hs.receive(encode_plain_frame(kHelloFrame, encode_hello({ours.public_key, "same-node"})));
  CHECK(hs.state() == AcceptorHandshake::State::self);
  CHECK(decode_challenge(frames_of(reply)[0].payload)->node_id == "same-node");
}
