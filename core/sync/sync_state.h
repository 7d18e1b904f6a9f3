// One /sync request while it is being built: the request, its read
// transaction, the window (from, to] of each stream, and what several
// providers share (the user's memberships), read once and on first use.
#pragma once

#include "sync/filter.h"
#include "sync/sync_deps.h"
#include "sync/token.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eltrix::storage {
class Transaction;
}

namespace eltrix::sync {

struct SyncUser {
  std::string user_id;
  std::string device_id;
};

struct SyncRequest {
  SyncUser who;
  std::optional<SyncToken> since = std::nullopt;  ///< none: an initial sync
  bool full_state = false;
  Filter filter = {};
};

/// The user's latest membership of one room, as of the window's end.
struct RoomMembership {
  std::string room_id;
  std::string membership;
  std::int64_t stream = 0;
  std::string event_id;
  /// Its event's depth: where it sits in the room's DAG.
  std::int64_t depth = 0;
};

class SyncState {
 public:
  SyncState(const SyncDeps& deps, const SyncRequest& request, storage::Transaction& tx);

  const SyncDeps& deps;
  const SyncRequest& request;
  storage::Transaction& tx;
  /// Wall clock of the build (unsigned age of events).
  const std::int64_t now_ms;

  [[nodiscard]] const std::string& user_id() const { return request.who.user_id; }
  [[nodiscard]] bool initial() const { return !request.since; }
  /// The client's token; all zero for an initial sync.
  [[nodiscard]] SyncToken since() const { return request.since.value_or(SyncToken{}); }

  /// The shared stream (storage/stream.h): the newest position this
  /// transaction sees, read once. A token from a newer snapshot than this one
  /// (a replica behind what the client was already shown) sends the
  /// transaction to the primary: answering from here would move the client
  /// backwards and repeat events on its next sync.
  std::int64_t stream_to();
  /// The window's start on the shared stream: 0 for an initial sync, never
  /// after stream_to().
  std::int64_t stream_from();

  /// The user's rooms (not forgotten, as of stream_to(), within the filter's
  /// rooms), in no particular order.
  const std::vector<RoomMembership>& memberships();
  /// The rooms of memberships() the user is joined to.
  const std::vector<std::string>& joined_rooms();

 private:
  std::optional<std::int64_t> stream_to_;
  std::optional<std::vector<RoomMembership>> memberships_;
  std::vector<std::string> joined_;
};

}  // namespace eltrix::sync
