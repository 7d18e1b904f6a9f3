// The acceptor's side of the handshake (handshake.h) as a state machine over
// bytes: the listener feeds what a connection sent and writes back what this
// answers, without a thread per connection and without ever blocking, so a
// crowd of unauthenticated connections costs a few hundred bytes each.
//
//   AcceptorHandshake hs(key, self_id);
//   std::string reply = hs.receive(bytes);   // send reply, then look at state()
#pragma once

#include "cluster/cluster_key.h"
#include "cluster/frame.h"
#include "cluster/handshake.h"
#include "cluster/secure_stream.h"

#include <memory>
#include <string>
#include <string_view>

namespace eltrix::cluster {

class AcceptorHandshake {
 public:
  enum class State {
    awaiting_hello,
    awaiting_proof,
    authenticated,  ///< the peer proved K: take_stream() and leftover()
    self,           ///< our own dialer reached us: send the reply, then hang up
    failed,         ///< hang up; failure() names the metric reason
  };

  AcceptorHandshake(const Key& key, std::string self_id);

  /// Consumes received bytes; returns what to send back (maybe empty). Never
  /// throws for anything the peer sends: a violation moves to `failed`.
  std::string receive(std::string_view bytes);

  [[nodiscard]] State state() const { return state_; }
  /// When failed: malformed, old_version or bad_proof
  /// (eltrix_cluster_auth_failures_total{reason}).
  [[nodiscard]] const std::string& failure() const { return failure_; }
  /// When failed: what went wrong, for the log.
  [[nodiscard]] const std::string& detail() const { return detail_; }
  [[nodiscard]] const std::string& peer_id() const { return transcript_.dialer_id; }

  /// When authenticated: the stream the peer's frames are encrypted with.
  std::unique_ptr<ReceiveStream> take_stream() { return std::move(stream_); }
  /// When authenticated: the reader holding whatever arrived after PROOF
  /// (its limit still the handshake's; raise it to kMaxFrameBytes).
  FrameReader& reader() { return reader_; }

 private:
  std::string on_hello(const Frame& frame);
  std::string on_proof(const Frame& frame);
  void fail(std::string reason, std::string detail);

  const Key& key_;
  const std::string self_id_;
  State state_ = State::awaiting_hello;
  FrameReader reader_{kMaxHandshakeFrameBytes};
  std::unique_ptr<EphemeralKey> ephemeral_;
  Transcript transcript_;
  std::unique_ptr<ReceiveStream> stream_;
  std::string failure_;
  std::string detail_;
};

}  // namespace eltrix::cluster
