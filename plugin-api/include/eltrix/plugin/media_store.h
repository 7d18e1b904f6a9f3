// Media-store plugins: streamed, atomic storage of opaque blobs.
//
// Implementations: media-store-fs (local or shared filesystem), media-store-s3.
// Bytes always flow through ByteSource so that no implementation needs a whole
// object in memory.
#pragma once

#include <eltrix/plugin/component.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::plugin {

/// Capability bits for Kind::media_store.
enum MediaStoreCapabilities : std::uint64_t {
  /// Every node sees the same objects (s3, or fs on shared storage).
  kMediaShared = 1ULL << 0U,
};

/// A pull-based byte stream. The consumer calls read() until it returns 0.
/// A source may throw to abort the transfer; see MediaStore::put.
class ByteSource {
 public:
  ByteSource() = default;
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;
  ByteSource(ByteSource&&) = delete;
  ByteSource& operator=(ByteSource&&) = delete;
  virtual ~ByteSource() = default;

  /// Copies up to `capacity` bytes into `buffer`; returns 0 only at the end.
  virtual std::size_t read(char* buffer, std::size_t capacity) = 0;
};

struct ObjectInfo {
  std::uint64_t size = 0;
  std::string content_type;
};

struct PutOptions {
  std::string_view content_type;
  /// The size announced by the client, if any; lets a store pick single-part
  /// or multipart upload. The store still counts the bytes it reads.
  std::optional<std::uint64_t> expected_size;
};

/// One stored object, as MediaStore::list() reports it.
struct StoredObject {
  std::string key;
  /// When the object was last written, in milliseconds since the Unix epoch.
  std::int64_t modified_ms = 0;
  std::uint64_t size = 0;
};

/// One page of MediaStore::list().
struct ObjectPage {
  std::vector<StoredObject> objects;
  /// Where the next page starts (pass it to list()); empty when this was the
  /// last page. Opaque to the caller.
  std::string next_cursor;
};

/// The ABI minor version that added MediaStore::list() and
/// MediaStore::remove_abandoned_uploads(): the core calls them only on
/// plugins built with at least this minor (older ones lack the vtable slots).
inline constexpr std::uint16_t kMediaStoreListingSince = 1;

/// Longest accepted key, in bytes.
inline constexpr std::size_t kMaxObjectKeySize = 512;

/// Object keys are chosen by the core ("<server>/<media id>",
/// "thumbnails/<...>"), but every store checks them again so that no key can
/// leave its root: '/'-separated segments of [A-Za-z0-9._-], none empty, none
/// "." or "..", at most kMaxObjectKeySize bytes in all.
constexpr bool is_valid_object_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxObjectKeySize) return false;
  std::size_t segment_start = 0;
  for (std::size_t i = 0; i <= key.size(); ++i) {
    if (i == key.size() || key[i] == '/') {
      auto segment = key.substr(segment_start, i - segment_start);
      if (segment.empty() || segment == "." || segment == "..") return false;
      segment_start = i + 1;
      continue;
    }
    char c = key[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

class MediaStore : public Component {
 public:
  /// Reads `source` to its end and stores the bytes under `key`. The object
  /// becomes visible only once complete (temporary file then rename, or a
  /// completed multipart upload). If `source` throws, or storing fails,
  /// nothing stays behind and the exception propagates. Returns the byte count.
  virtual std::uint64_t put(std::string_view key, ByteSource& source,
                            const PutOptions& options) = 0;

  /// A stream over `length` bytes from `offset` (nullopt: to the end), or
  /// nullptr when the object does not exist. The stream must be destroyed
  /// before the store is.
  virtual std::unique_ptr<ByteSource> get(std::string_view key, std::uint64_t offset,
                                          std::optional<std::uint64_t> length) = 0;

  /// Size and content type, or nullopt when the object does not exist.
  virtual std::optional<ObjectInfo> stat(std::string_view key) = 0;

  virtual bool exists(std::string_view key) = 0;

  /// Removes the object; returns whether it existed.
  virtual bool erase(std::string_view key) = 0;

  // ---- ABI 1.1 (kMediaStoreListingSince) --------------------------------
  // Used by the core's sweep of orphaned media (objects whose upload never
  // got its database row because a node died in between). Defaults keep
  // plugins that do not implement them working: nothing is listed or swept.

  /// Up to about `limit` stored objects (a page may hold somewhat more, or
  /// fewer, even none while next_cursor is not empty), from `cursor` (empty:
  /// the beginning) in an order of the store's choosing. Every object that
  /// exists for the whole listing appears exactly once; objects written or
  /// erased meanwhile may or may not. Only complete objects are listed, never
  /// uploads in progress, and only keys that are valid object keys.
  virtual ObjectPage list(std::string_view /*cursor*/, std::size_t /*limit*/) { return {}; }

  /// Removes what uploads that never finished left behind (temporary files,
  /// incomplete multipart uploads) once they are older than `older_than`, so
  /// that uploads in progress, on this node or another, are left alone.
  /// Returns how many were removed. Throws plugin::Error when the store
  /// cannot be reached.
  virtual std::size_t remove_abandoned_uploads(std::chrono::seconds /*older_than*/) { return 0; }
};

}  // namespace eltrix::plugin
