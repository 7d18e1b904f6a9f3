// The one history visibility check (spec: "History visibility"; DESIGN.md §4
// "One visibility check"). Every path that returns a room's events or state
// to a user asks a Visibility: sync (timeline and state, joined and left
// rooms), /messages, /context, /event, /state, /members, lazy-loaded members.
// The decision itself is matrix::event_visible / matrix::state_visible (pure);
// this class loads the facts they need, once per range of positions and not
// per event, and a future federation path can call it the same way.
#pragma once

#include "matrix/history_visibility.h"
#include "rooms/event_store.h"
#include "storage/database.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::rooms {

/// A position standing for "now": the current state.
inline constexpr std::int64_t kCurrentState = std::numeric_limits<std::int64_t>::max();

class Visibility {
 public:
  /// One query: the user's membership now, the room's history visibility
  /// now, and whether the user was ever joined.
  Visibility(storage::Transaction& tx, std::string_view room_id, std::string_view user_id);
  /// With the user's membership already known (sync reads room_memberships
  /// for every room): no query until one is needed.
  Visibility(storage::Transaction& tx, std::string_view room_id, std::string_view user_id,
             std::string_view membership, std::int64_t membership_stream);

  /// May the user page through the room's history at all (/messages,
  /// /context)? Joined now, world readable now, or a former member. Each
  /// event is still checked on its own.
  [[nodiscard]] bool may_read_history();

  /// Loads what deciding events at positions in [lo, hi] needs, in one query
  /// (nothing when the user has been joined since before lo). Call it once
  /// per batch of rows before can_see() on them.
  void prepare(std::int64_t lo, std::int64_t hi);

  /// May the user see `event`? Loads the facts for this one event when no
  /// prepared range covers it.
  [[nodiscard]] bool can_see(const StoredEvent& event);
  /// May the user see the room's state after `position`?
  [[nodiscard]] bool can_see_state_at(std::int64_t position);

  /// The state the user may read as "the room's state" (/state, /members):
  /// kCurrentState for the current state (joined, or world readable now), the
  /// position of their leave for a former member, nullopt for nothing.
  [[nodiscard]] std::optional<std::int64_t> state_position();

  /// The user's membership now ("" when they have none).
  [[nodiscard]] const std::string& membership() const { return membership_; }

 private:
  /// Joined since `position` or earlier: everything from there on is visible.
  [[nodiscard]] bool joined_since(std::int64_t position) const {
    return membership_ == "join" && position >= membership_stream_;
  }
  [[nodiscard]] bool covers(std::int64_t lo, std::int64_t hi) const {
    return facts_ && facts_->lo <= lo && hi <= facts_->hi;
  }
  /// Loads the room's visibility now and whether the user ever joined.
  void load_summary();

  storage::Transaction& tx_;
  std::string room_id_;
  std::string user_id_;
  std::string membership_;
  std::int64_t membership_stream_ = 0;
  bool summary_loaded_ = false;
  bool world_readable_now_ = false;
  bool ever_joined_ = false;
  std::optional<matrix::HistoryFacts> facts_;
};

/// The m.room.member events of `users` in the state after `position`
/// (kCurrentState: the current state), in one query: the members a lazy-loading
/// client needs for the senders it is shown.
std::vector<StoredEvent> member_events_at(storage::Transaction& tx, std::string_view room_id,
                                          const std::vector<std::string>& users,
                                          std::int64_t position);

}  // namespace eltrix::rooms
