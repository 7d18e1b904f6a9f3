// Fuzz target: the cluster mesh's frame reader (cluster/frame.h), which reads
// the bytes any network peer sends before and after authentication, and the
// decoders of what a frame carries (handshake.h, messages.h).
//
// Kept deliberately small: the mesh's framing evolves (docs/cluster-protocol.md),
// and only read_frames() and decode_body() need adapting when it does.
//
// Input: the bytes a peer sends on one connection.
// Properties:
//  - FrameReader returns the same frames (or the same FrameError) however the
//    bytes are split into reads, and never buffers more than one frame plus
//    the last read;
//  - each frame body re-encodes to exactly the bytes it was read from;
//  - a body never opens as the first frame of a stream it was not sealed in,
//    and a sealed frame opens to what was sealed, once;
//  - the acceptor's handshake state machine takes any bytes, whole or in
//    pieces, without throwing, and never authenticates a peer that does not
//    hold the cluster key;
//  - the decoders accept or refuse any payload without crashing, and what
//    they accept re-encodes to something they decode to the same value.
#include "cluster/acceptor_handshake.h"
#include "cluster/frame.h"
#include "cluster/handshake.h"
#include "cluster/messages.h"
#include "cluster/secure_stream.h"
#include "fuzz_check.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using eltrix::fuzz::as_text;
namespace cluster = eltrix::cluster;

struct Outcome {
  std::vector<std::string> bodies;
  bool error = false;
};

/// Feeds `bytes` in reads of `chunk` bytes (0: all at once), taking every
/// complete frame after each read, as peer_link.cpp and listener.cpp do.
Outcome read_frames(std::string_view bytes, std::size_t chunk) {
  Outcome out;
  cluster::FrameReader reader;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const std::size_t n = chunk == 0 ? bytes.size() : std::min(chunk, bytes.size() - pos);
    reader.feed(bytes.substr(pos, n));
    pos += n;
    try {
      while (auto body = reader.next()) out.bodies.push_back(std::move(*body));
    } catch (const cluster::FrameError&) {
      out.error = true;
      return out;
    }
    FUZZ_CHECK(reader.buffered() <= 4 + cluster::kMaxFrameBytes + n);
  }
  return out;
}

void decode_body(std::string_view body) {
  const auto frame = cluster::plain_frame(body);
  FUZZ_CHECK(frame.has_value());  // the reader never returns an empty body
  FUZZ_CHECK(cluster::encode_plain_frame(frame->type, frame->payload).substr(4) == body);

  // A body nobody sealed does not open as a stream's first frame; a sealed
  // one opens to what was sealed, and only once (no replay).
  cluster::Key key{};
  key[0] = 1;
  cluster::SendStream sender(key);
  cluster::ReceiveStream stranger(key, sender.header());
  FUZZ_CHECK(!stranger.open(body).has_value());
  if (frame->payload.size() <= cluster::kMaxPayloadBytes) {
    std::string sealed;
    sender.seal(sealed, frame->type, frame->payload);
    const std::string_view sealed_body = std::string_view(sealed).substr(4);
    cluster::ReceiveStream receiver(key, sender.header());
    const auto opened = receiver.open(sealed_body);
    FUZZ_CHECK(opened && opened->type == frame->type && opened->payload == frame->payload);
    FUZZ_CHECK(!receiver.open(sealed_body).has_value());
  }

  const std::string_view payload = frame->payload;
  switch (frame->type) {
    case cluster::kHelloFrame:
      if (auto hello = cluster::decode_hello(payload)) {
        const auto again = cluster::decode_hello(cluster::encode_hello(*hello));
        FUZZ_CHECK(again && again->node_id == hello->node_id && again->key == hello->key);
      }
      break;
    case cluster::kChallengeFrame:
      if (auto challenge = cluster::decode_challenge(payload)) {
        const auto again = cluster::decode_challenge(cluster::encode_challenge(*challenge));
        FUZZ_CHECK(again && again->node_id == challenge->node_id && again->mac == challenge->mac);
      }
      break;
    case cluster::kProofFrame:
      if (auto proof = cluster::decode_proof(payload)) {
        const auto again = cluster::decode_proof(cluster::encode_proof(*proof));
        FUZZ_CHECK(again && again->mac == proof->mac && again->header == proof->header);
      }
      break;
    default: break;
  }
  // Every message decoder sees every payload: a peer picks the type freely.
  (void)cluster::message_type_name(frame->type);
  if (auto keys = cluster::decode_wake(payload)) {
    FUZZ_CHECK(cluster::decode_wake(cluster::encode_wake(*keys)) == keys);
  }
  if (auto typing = cluster::decode_typing(payload)) {
    const auto again = cluster::decode_typing(cluster::encode_typing(*typing));
    FUZZ_CHECK(again && again->room_id == typing->room_id && again->timeout == typing->timeout);
  }
  if (auto invalidation = cluster::decode_invalidation(payload)) {
    const auto again = cluster::decode_invalidation(cluster::encode_invalidation(*invalidation));
    FUZZ_CHECK(again && again->key == invalidation->key &&
               again->tombstone == invalidation->tombstone && again->ttl == invalidation->ttl);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = as_text(data, size);
  const Outcome whole = read_frames(bytes, 0);
  for (const std::size_t chunk : {1, 3, 4, 5, 4096}) {
    const Outcome pieces = read_frames(bytes, chunk);
    FUZZ_CHECK(pieces.bodies == whole.bodies);
    FUZZ_CHECK(pieces.error == whole.error);
  }
  for (const auto& body : whole.bodies) decode_body(body);

  // The acceptor's side of the handshake, as the listener drives it: any
  // bytes, whole or byte by byte, are taken without throwing, and without the
  // cluster key no sender can authenticate (the fuzzer never has it).
  cluster::Key secret{};
  secret.fill(7);
  cluster::AcceptorHandshake at_once(secret, "fuzz-acceptor");
  (void)at_once.receive(bytes);
  cluster::AcceptorHandshake in_pieces(secret, "fuzz-acceptor");
  for (std::size_t i = 0;
       i < bytes.size() && in_pieces.state() != cluster::AcceptorHandshake::State::failed; ++i) {
    (void)in_pieces.receive(bytes.substr(i, 1));
  }
  FUZZ_CHECK(at_once.state() != cluster::AcceptorHandshake::State::authenticated);
  FUZZ_CHECK(in_pieces.state() != cluster::AcceptorHandshake::State::authenticated);
  return 0;
}
