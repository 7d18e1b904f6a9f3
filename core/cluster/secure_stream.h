// Encryption of a mesh connection's frames once the handshake is done:
// libsodium's crypto_secretstream_xchacha20poly1305, keyed with the stream
// key the handshake derived (handshake.h).
//
//   frame = u32 big-endian length of body, body
//   body  = secretstream message of (u8 type, payload)     (17 bytes longer)
//
// The stream authenticates and orders its messages itself: a frame that is
// tampered with, replayed, dropped, reordered or taken from another
// connection (another key, another header) fails to open, and nothing after
// it can be trusted. The lengths of frames are visible on the wire; their
// types and contents are not.
#pragma once

#include "cluster/cluster_key.h"
#include "cluster/frame.h"

#include <sodium.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::cluster {

inline constexpr std::size_t kStreamHeaderBytes = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
/// What encryption adds to every frame body.
inline constexpr std::size_t kStreamOverheadBytes = crypto_secretstream_xchacha20poly1305_ABYTES;
/// Largest payload a sealed frame can carry within kMaxFrameBytes.
inline constexpr std::size_t kMaxPayloadBytes = kMaxFrameBytes - 1 - kStreamOverheadBytes;

using StreamHeader = std::array<std::uint8_t, kStreamHeaderBytes>;

/// The sending end (the dialer's side of a connection).
class SendStream {
 public:
  /// A fresh stream (random header) keyed with `key`.
  explicit SendStream(const Key& key);
  ~SendStream();
  SendStream(const SendStream&) = delete;
  SendStream& operator=(const SendStream&) = delete;
  SendStream(SendStream&&) = delete;
  SendStream& operator=(SendStream&&) = delete;

  /// Sent to the receiver before any frame (in the handshake's PROOF).
  [[nodiscard]] const StreamHeader& header() const { return header_; }
  /// Appends the length-prefixed encrypted frame of (type, payload) to `out`.
  /// Throws std::length_error when payload exceeds kMaxPayloadBytes.
  void seal(std::string& out, std::uint8_t type, std::string_view payload);

 private:
  crypto_secretstream_xchacha20poly1305_state state_{};
  StreamHeader header_{};
};

/// The receiving end (the acceptor's side).
class ReceiveStream {
 public:
  /// The stream `header` announced, keyed with `key`.
  ReceiveStream(const Key& key, const StreamHeader& header);
  ~ReceiveStream();
  ReceiveStream(const ReceiveStream&) = delete;
  ReceiveStream& operator=(const ReceiveStream&) = delete;
  ReceiveStream(ReceiveStream&&) = delete;
  ReceiveStream& operator=(ReceiveStream&&) = delete;

  /// Decrypts the next frame `body` (no length prefix). nullopt when it does
  /// not authenticate as the next message of this stream; the stream is
  /// unusable afterwards (the caller closes the connection).
  std::optional<Frame> open(std::string_view body);

 private:
  crypto_secretstream_xchacha20poly1305_state state_{};
  bool broken_ = false;
};

}  // namespace eltrix::cluster
