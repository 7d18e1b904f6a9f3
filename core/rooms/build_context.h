// What building a local event reads from its room, in one round trip (one
// statement of three parts): the forward extremities it will name as
// prev_events, the auth events it will name (from the current state), and
// with a transaction ID, the event an earlier request with that ID sent
// (spec: "Transaction identifiers"; then nothing new is built). Three
// statements before (five with one per auth event); the send path's round
// trips are its cost on a busy database (docs/benchmarks.md, issue 11).
// A message sends it with the lock and BEGIN (D39): one round trip for all.
#pragma once

#include "rooms/event_store.h"
#include "rooms/room_service.h"
#include "rooms/state_groups.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace eltrix::rooms {

/// prev_events named at most; more extremities merge in later events.
inline constexpr std::size_t kMaxPrevEvents = 20;

struct BuildContext {
  struct Extremity {
    std::string event_id;
    std::int64_t depth = 0;
    StateGroup state_after;
  };
  /// Deepest first, at most kMaxPrevEvents.
  std::vector<Extremity> extremities;
  /// The current state's events for the keys asked for, in their order;
  /// a key the state lacks is left out.
  std::vector<StoredEvent> auth_events;
  /// The event sent earlier with the same transaction ID.
  std::optional<SentEvent> earlier;
};

BuildContext read_build_context(storage::Transaction& tx, const std::string& room_id,
                                const std::vector<std::pair<std::string, std::string>>& auth_keys,
                                const std::optional<Transaction>& txn, const std::string& sender);

/// The same read as a write's first statement, after taking the room's
/// lock, all in the BEGIN round trip (two round trips fewer than
/// lock_room_statement() then read_build_context(); D39). For an event
/// whose auth events are known before its transaction starts: a message.
/// locked_room() and locked_build_context() read what it found.
storage::FirstStatement lock_room_and_read_build_context(
    const std::string& room_id, RoomLock lock,
    const std::vector<std::pair<std::string, std::string>>& auth_keys,
    const std::optional<Transaction>& txn, const std::string& sender);
BuildContext locked_build_context(
    const storage::Transaction& tx,
    const std::vector<std::pair<std::string, std::string>>& auth_keys);

}  // namespace eltrix::rooms
