#include "cluster/acceptor_handshake.h"

namespace eltrix::cluster {

namespace {

std::string_view bytes_of(const Mac& mac) {
  return {reinterpret_cast<const char*>(mac.data()), mac.size()};
}

}  // namespace

AcceptorHandshake::AcceptorHandshake(const Key& key, std::string self_id)
    : key_(key), self_id_(std::move(self_id)) {}

void AcceptorHandshake::fail(std::string reason, std::string detail) {
  state_ = State::failed;
  failure_ = std::move(reason);
  detail_ = std::move(detail);
  ephemeral_.reset();
}

std::string AcceptorHandshake::receive(std::string_view bytes) {
  std::string reply;
  if (state_ != State::awaiting_hello && state_ != State::awaiting_proof) return reply;
  reader_.feed(bytes);
  try {
    while (state_ == State::awaiting_hello || state_ == State::awaiting_proof) {
      auto body = reader_.next();
      if (!body) break;
      auto frame = plain_frame(*body);
      if (!frame) {
        fail("malformed", "an empty frame");
        break;
      }
      reply += state_ == State::awaiting_hello ? on_hello(*frame) : on_proof(*frame);
    }
  } catch (const FrameError& e) {
    // Most often a length beyond the pre-authentication limit: cut off before
    // any of the announced body is buffered.
    fail("malformed", e.what());
  }
  return reply;
}

std::string AcceptorHandshake::on_hello(const Frame& frame) {
  if (frame.type != kHelloFrame) {
    fail("malformed", "the first frame is not a HELLO");
    return {};
  }
  if (is_other_version_hello(frame.payload)) {
    fail("old_version", "the peer speaks mesh protocol " + frame.payload.substr(0, 8) +
                            "; this node speaks " + std::string(kProtocolMagic) +
                            " (encrypted) and refuses others: upgrade every node");
    return {};
  }
  auto hello = decode_hello(frame.payload);
  if (!hello) {
    fail("malformed", "not a mesh HELLO");
    return {};
  }
  // The key pair is made only for a well-formed HELLO, and the X25519
  // exchange only once the proof passed: garbage costs no public-key work.
  ephemeral_ = std::make_unique<EphemeralKey>();
  transcript_.dialer_key = hello->key;
  transcript_.dialer_id = hello->node_id;
  transcript_.acceptor_key = ephemeral_->public_key;
  transcript_.acceptor_id = self_id_;
  const Challenge challenge{ephemeral_->public_key, self_id_, acceptor_mac(key_, transcript_)};
  std::string reply = encode_plain_frame(kChallengeFrame, encode_challenge(challenge));
  if (hello->node_id == self_id_) {
    // Our own dialer reached us: the CHALLENGE tells it so.
    state_ = State::self;
    ephemeral_.reset();
    return reply;
  }
  state_ = State::awaiting_proof;
  return reply;
}

std::string AcceptorHandshake::on_proof(const Frame& frame) {
  auto proof = frame.type == kProofFrame ? decode_proof(frame.payload) : std::nullopt;
  if (!proof) {
    fail("malformed", "expected a PROOF frame");
    return {};
  }
  if (!mac_equal(dialer_mac(key_, transcript_), bytes_of(proof->mac))) {
    fail("bad_proof", "the peer does not prove the cluster key");
    return {};
  }
  auto key = stream_key(key_, transcript_, *ephemeral_, false);
  ephemeral_.reset();  // forward secrecy: the secret half is wiped now
  if (!key) {
    fail("malformed", "the peer's ephemeral key is unusable");
    return {};
  }
  stream_ = std::make_unique<ReceiveStream>(*key, proof->header);
  sodium_memzero(key->data(), key->size());
  state_ = State::authenticated;
  return encode_plain_frame(kWelcomeFrame, bytes_of(welcome_mac(key_, transcript_)));
}

}  // namespace eltrix::cluster
