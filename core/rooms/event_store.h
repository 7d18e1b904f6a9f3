// Reading stored events and room state (events, current_state and
// room_memberships from migration 0002), and turning stored PDUs into the
// client format (spec: "ClientEvent").
#pragma once

#include "storage/database.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::rooms {

struct StoredEvent {
  /// Stream order: when this server learned of the event.
  std::int64_t stream = 0;
  /// Topological order: where it sits in the room's DAG (depth, then stream).
  std::int64_t depth = 0;
  std::string event_id;
  nlohmann::json pdu;  ///< the federation form (redacted once redacted)
  std::optional<std::string> txn_device_id;
  std::optional<std::string> txn_id;
  std::optional<nlohmann::json> redaction;  ///< the redaction's PDU, when redacted
  std::optional<std::string> redacted_by;
  /// The state group of the state before the event (rooms/state_groups.h;
  /// nullopt: the empty state, before m.room.create).
  std::optional<std::int64_t> state_before;

  [[nodiscard]] const std::string& type() const;
  [[nodiscard]] const std::string& sender() const;
  [[nodiscard]] bool is_state() const { return pdu.contains("state_key"); }
  [[nodiscard]] std::string state_key() const;
  /// content.membership of an m.room.member event ("" otherwise).
  [[nodiscard]] std::string membership() const;
};

/// Columns of events aliased "e" (with its redaction LEFT JOINed as "r") that
/// read_event() expects, in order. Use with kEventJoin.
inline constexpr std::string_view kEventColumns =
    "e.stream_ordering, e.event_id, e.pdu, e.txn_device_id, e.txn_id, e.redacted_by, r.pdu, "
    "e.depth, e.state_before";
inline constexpr std::string_view kEventJoin =
    "events e LEFT JOIN events r ON r.event_id = e.redacted_by";

/// "SELECT <kEventColumns> FROM <kEventJoin> <tail>".
std::string select_events(std::string_view tail);
StoredEvent read_event(const pqxx::row& row);
std::vector<StoredEvent> read_events(const pqxx::result& result);

/// The client format of an event. `device_id` is the requesting device: the
/// sender's own device sees unsigned.transaction_id.
nlohmann::json client_event(const StoredEvent& event, std::string_view requester,
                            std::string_view device_id, std::int64_t now_ms);
/// The same, without room_id (sync's timeline and state omit it).
nlohmann::json sync_event(const StoredEvent& event, std::string_view requester,
                          std::string_view device_id, std::int64_t now_ms);
/// The stripped form (type, state_key, sender, content) used in invite_state.
nlohmann::json stripped_event(const StoredEvent& event);

/// A PostgreSQL text[] literal for use as a parameter ($n::text[]).
std::string pg_text_array(const std::vector<std::string>& values);

std::int64_t now_ms();

struct RoomInfo {
  std::string room_id;
  std::string version;
  std::string creator;
};

/// How a transaction that adds an event holds the room (docs/decisions.md
/// D36; a transaction-scoped advisory lock on the room ID, fair to waiters):
/// - exclusive: state events, redactions and received events, one at a
///   time, so the state they are checked against and change stays the
///   current state until they commit;
/// - shared: any number of local non-state events at once (they wait for an
///   exclusive holder, and queue behind one waiting). Two of them built on
///   the same extremities fork the room's DAG; the next event merges the fork.
enum class RoomLock { none, shared, exclusive };

/// The room, row-locked as `lock` says.
std::optional<RoomInfo> load_room(storage::Transaction& tx, std::string_view room_id,
                                  RoomLock lock = RoomLock::none);
/// load_room() as a write's first statement, sent with its BEGIN (one round
/// trip fewer); locked_room() reads what it found. `read`, if given, runs
/// instead of reading the room's row, after the lock, in the same round
/// trip: its first two columns must be the room's version and creator
/// (NULL: no such room), $1 is the room ID and $2... are `more_params`.
storage::FirstStatement lock_room_statement(
    std::string_view room_id, RoomLock lock, std::string read = {},
    std::vector<std::optional<std::string>> more_params = {});
std::optional<RoomInfo> locked_room(const storage::Transaction& tx, std::string_view room_id);

std::optional<StoredEvent> load_event(storage::Transaction& tx, std::string_view event_id);

/// The current state event for (type, state_key).
std::optional<StoredEvent> current_state_event(storage::Transaction& tx, std::string_view room_id,
                                               std::string_view type, std::string_view state_key);
/// The whole current state.
std::vector<StoredEvent> current_state(storage::Transaction& tx, std::string_view room_id);
/// The room's current state as of stream position `position` (state groups,
/// rooms/state_groups.h). An event that arrived late, deep in the DAG, did
/// not change it, so it never makes an older state look current.
std::vector<StoredEvent> state_at(storage::Transaction& tx, std::string_view room_id,
                                  std::int64_t position);

/// The state event (type, "") in force at `position` (as state_at).
std::optional<StoredEvent> state_at_key(storage::Transaction& tx, std::string_view room_id,
                                        std::string_view type, std::int64_t position);

/// The state before and after a stored event (empty for an unknown one).
std::vector<StoredEvent> state_before_event(storage::Transaction& tx, std::string_view event_id);
std::vector<StoredEvent> state_after_event(storage::Transaction& tx, std::string_view event_id);

struct Membership {
  std::string membership;  ///< join, invite, leave, ban, knock
  std::int64_t stream = 0;
  std::string event_id;
  bool forgotten = false;
};
std::optional<Membership> membership_of(storage::Transaction& tx, std::string_view room_id,
                                        std::string_view user_id);

/// History visibility, the one check every read path uses, is in
/// rooms/visibility.h.

}  // namespace eltrix::rooms
