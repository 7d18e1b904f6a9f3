// What nodes tell each other over the mesh, after the handshake. Every
// message is a hint: PostgreSQL holds the state of record, so a lost message
// only delays something until a database check (DESIGN.md §4).
//
// Frame types (u8; handshake types 1-3 are in handshake.h):
//   16 ping                 empty; keeps idle connections proven alive
//   32 wake                 {"k": ["room:!id:hs", "user:@u:hs", ...]} notifier keys
//   33 typing               {"r": room, "u": user, "t": typing, "ms": timeout}
//   34 cache invalidation   {"k": key, "v": tombstone (absent: erase), "ttl": seconds}
// Adding a message: take the next free number, add an encoder/decoder here
// and a handler in Mesh's dispatch (mesh.cpp). A node ignores (and counts)
// types it does not know, so older nodes tolerate newer ones during a
// rolling upgrade. Candidates: to-device messages and device-list changes,
// which can already ride on "wake" with user keys.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::cluster {

enum class MessageType : std::uint8_t {
  ping = 16,
  wake = 32,
  typing = 33,
  cache_invalidation = 34,
};

/// Metric label of a frame type ("unknown" for types this node does not know).
std::string_view message_type_name(std::uint8_t type);

struct TypingChange {
  std::string room_id;
  std::string user_id;
  bool typing = false;
  std::chrono::milliseconds timeout{0};
};

struct CacheInvalidation {
  std::string key;
  /// Set: store this value (a tombstone, see GuardedCache); absent: erase.
  std::optional<std::string> tombstone;
  std::chrono::seconds ttl{0};
};

std::string encode_wake(const std::vector<std::string>& keys);
std::optional<std::vector<std::string>> decode_wake(std::string_view payload);
std::string encode_typing(const TypingChange& change);
std::optional<TypingChange> decode_typing(std::string_view payload);
std::string encode_invalidation(const CacheInvalidation& invalidation);
std::optional<CacheInvalidation> decode_invalidation(std::string_view payload);

}  // namespace eltrix::cluster
