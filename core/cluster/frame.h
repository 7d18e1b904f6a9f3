// Framing of the cluster mesh (the protocol is described in
// docs/cluster-protocol.md).
//
//   frame = u32 big-endian length of body, body
//   body  = u8 type, payload                       (handshake frames)
//   body  = secretstream ciphertext of (type, payload)   (every later frame,
//           see secure_stream.h)
//
// Before a peer has proved the cluster key, a frame body may be at most
// kMaxHandshakeFrameBytes: the handshake frames are about a hundred bytes,
// and anyone who can reach the port may send them. Only an authenticated
// connection may send frames up to kMaxFrameBytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace eltrix::cluster {

/// Largest body accepted on an authenticated connection.
inline constexpr std::size_t kMaxFrameBytes = 1U << 20U;
/// Largest body accepted before authentication (HELLO is 106 bytes, PROOF 57).
inline constexpr std::size_t kMaxHandshakeFrameBytes = 256;

struct Frame {
  std::uint8_t type = 0;
  std::string payload;
};

/// A length-prefixed frame without encryption (handshake only).
std::string encode_plain_frame(std::uint8_t type, std::string_view payload);

/// The handshake frame in `body` (no length prefix). nullopt when empty.
std::optional<Frame> plain_frame(std::string_view body);

/// A peer broke the framing (a length of zero or beyond the reader's limit).
class FrameError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Splits a byte stream into frame bodies. Bytes arrive in any pieces. This
/// is the parser of untrusted mesh bytes (fuzz it through feed() and next()).
class FrameReader {
 public:
  /// `max_body`: the largest body accepted; a longer announced length throws
  /// as soon as the 4-byte prefix has arrived, before any body is buffered.
  explicit FrameReader(std::size_t max_body = kMaxFrameBytes) : max_body_(max_body) {}

  /// Appends received bytes.
  void feed(std::string_view bytes);
  /// The next complete body, if one has arrived. Throws FrameError on a bad length.
  std::optional<std::string> next();
  /// Bytes received and not yet returned.
  [[nodiscard]] std::size_t buffered() const { return buffer_.size() - offset_; }
  /// Changes the limit (raised once the peer is authenticated).
  void set_max_body(std::size_t max_body) { max_body_ = max_body; }
  [[nodiscard]] std::size_t max_body() const { return max_body_; }

 private:
  std::string buffer_;
  std::size_t offset_ = 0;
  std::size_t max_body_;
};

}  // namespace eltrix::cluster
