// Framing of the cluster mesh (the protocol is described in
// docs/cluster-protocol.md).
//
//   frame = u32 big-endian length of body, body
//   body  = u8 type, payload                       (handshake frames)
//   body  = u8 type, payload, 32-byte tag          (every later frame)
//   tag   = HMAC-SHA-256(session key, u64 big-endian sequence, type, payload)
//
// The sequence number is not sent: each side counts the frames of the
// connection from 0, so a frame replayed, dropped or reordered within a
// connection fails its tag, and one from another connection (another session
// key) fails too.
#pragma once

#include "cluster/cluster_key.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace eltrix::cluster {

/// Largest body accepted; a peer announcing more is cut off.
inline constexpr std::size_t kMaxFrameBytes = 1U << 20U;
inline constexpr std::size_t kTagBytes = 32;

struct Frame {
  std::uint8_t type = 0;
  std::string payload;
};

/// A length-prefixed frame without a tag (handshake only).
std::string encode_plain_frame(std::uint8_t type, std::string_view payload);

/// A length-prefixed frame authenticated with `session` as frame `sequence`.
std::string seal_frame(const Key& session, std::uint64_t sequence, std::uint8_t type,
                       std::string_view payload);

/// Checks the tag of `body` (a frame without its length prefix) as frame
/// `sequence` of the connection keyed with `session`. nullopt when the tag
/// does not verify (constant-time) or the body is too short.
std::optional<Frame> open_frame(const Key& session, std::uint64_t sequence, std::string_view body);

/// The handshake frame in `body` (no tag). nullopt when empty.
std::optional<Frame> plain_frame(std::string_view body);

/// A peer broke the framing (a length beyond kMaxFrameBytes or zero).
class FrameError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Splits a byte stream into frame bodies. Bytes arrive in any pieces.
class FrameReader {
 public:
  /// Appends received bytes.
  void feed(std::string_view bytes);
  /// The next complete body, if one has arrived. Throws FrameError on a bad length.
  std::optional<std::string> next();
  /// Bytes received and not yet returned.
  [[nodiscard]] std::size_t buffered() const { return buffer_.size() - offset_; }

 private:
  std::string buffer_;
  std::size_t offset_ = 0;
};

}  // namespace eltrix::cluster
