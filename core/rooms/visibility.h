// The one history visibility check (spec: "History visibility"; DESIGN.md §4
// "One visibility check"). Every path that returns a room's events or state
// to a user asks a Visibility: sync (timeline and state, joined and left
// rooms), /messages, /context, /event, /state, /members, lazy-loaded members.
// The decision itself is matrix::event_visible / matrix::state_visible (pure);
// this class loads the facts they need: for an event, from the state before
// it (its state group: where it sits in the room's DAG, not when this server
// learned of it, so a late or backfilled event is judged by the room as it
// was there), once per batch of events and not per event; for the room's
// state at a stream position (sync), from the state at that position. A
// future federation path can call it the same way.
#pragma once

#include "matrix/history_visibility.h"
#include "rooms/event_store.h"
#include "storage/database.h"

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::rooms {

/// A position standing for "now": the current state.
inline constexpr std::int64_t kCurrentState = std::numeric_limits<std::int64_t>::max();

class Visibility {
 public:
  /// One query: the user's membership now (and where its event sits), the
  /// room's history visibility now, and the user's joins.
  Visibility(storage::Transaction& tx, std::string_view room_id, std::string_view user_id);
  /// With the user's membership already known (sync reads room_memberships
  /// for every room): its stream position and its event's depth. No query
  /// until one is needed.
  Visibility(storage::Transaction& tx, std::string_view room_id, std::string_view user_id,
             std::string_view membership, std::int64_t membership_stream,
             std::int64_t membership_depth);

  /// May the user page through the room's history at all (/messages,
  /// /context)? Joined now, world readable now, or a former member. Each
  /// event is still checked on its own.
  [[nodiscard]] bool may_read_history();

  /// Loads what deciding on `events` needs, in one query: the history
  /// visibility and the user's membership in each state before them not
  /// loaded yet (nothing when the user was joined throughout them). Call it
  /// once per batch of rows before can_see() on them.
  void prepare(const std::vector<StoredEvent>& events);

  /// May the user see `event`? Loads the facts for this one event when
  /// prepare() did not.
  [[nodiscard]] bool can_see(const StoredEvent& event);
  /// May the user see the room's state after `event` (/context)?
  [[nodiscard]] bool can_see_state_after(const StoredEvent& event);
  /// May the user see the room's state as of stream position `position`
  /// (rooms::state_at: sync's state, the state a former member left)?
  [[nodiscard]] bool can_see_state_at(std::int64_t position);

  /// The state the user may read as "the room's state" (/state, /members):
  /// kCurrentState for the current state (joined, or world readable now), the
  /// position of their leave for a former member, nullopt for nothing.
  [[nodiscard]] std::optional<std::int64_t> state_position();

  /// The user's membership now ("" when they have none).
  [[nodiscard]] const std::string& membership() const { return membership_; }

 private:
  /// One of the user's joins: where it sits in both orders.
  struct Join {
    std::int64_t depth = 0;
    std::int64_t stream = 0;
  };

  /// The user's current join is in the state before `event`, without a
  /// query: the event is that join or comes after it in both orders (a late
  /// or backfilled event that arrived after the join but sits before it in
  /// the DAG does not). An event from another server on a branch of the DAG
  /// that does not descend from the join but is deeper than it is also read
  /// as after it.
  [[nodiscard]] bool joined_throughout(const StoredEvent& event) const {
    return membership_ == "join" && event.stream >= membership_stream_ &&
           (event.depth > membership_depth_ || event.stream == membership_stream_);
  }
  /// Joined since stream position `position` or earlier: the room's state as
  /// of any later position holds the join.
  [[nodiscard]] bool joined_since(std::int64_t position) const {
    return membership_ == "join" && position >= membership_stream_;
  }
  /// Loads the room's visibility now and the user's joins.
  void load_summary();
  void read_summary(const pqxx::result& rows);
  /// Loads the facts of the states `groups` that are not loaded yet.
  void load_groups(const std::vector<std::int64_t>& groups);
  [[nodiscard]] matrix::StateFacts facts_of(std::optional<std::int64_t> group);
  [[nodiscard]] matrix::EventFacts event_facts(const StoredEvent& event);

  storage::Transaction& tx_;
  std::string room_id_;
  std::string user_id_;
  std::string membership_;
  std::int64_t membership_stream_ = 0;
  std::int64_t membership_depth_ = 0;
  bool summary_loaded_ = false;
  bool world_readable_now_ = false;
  std::vector<Join> joins_;
  /// State group -> what it says for this user.
  std::map<std::int64_t, matrix::StateFacts> groups_;
};

/// The m.room.member events of `users` in the state after `position`
/// (kCurrentState: the current state), in one query: the members a lazy-loading
/// client needs for the senders it is shown.
std::vector<StoredEvent> member_events_at(storage::Transaction& tx, std::string_view room_id,
                                          const std::vector<std::string>& users,
                                          std::int64_t position);

}  // namespace eltrix::rooms
