// Rooms: the one pipeline every event takes, local or remote (decision
// D32). Its phases, each in its own file:
//   build   (local events only)  rooms/event_build.h
//   check   (every event)        rooms/event_check.h: an Outcome, not a throw
//   persist                      rooms/event_persist.h: DAG, state groups,
//                                current state, stream position
//   after commit                 rooms/after_commit.h: wake-ups today;
//                                federation outbox, push, device lists next
// Creating a room and membership changes are operations of this service, so
// no caller locks a room or writes room tables itself.
#pragma once

#include "rooms/event_outcome.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::rooms {

/// The sending device's transaction, for idempotent PUT .../send/{type}/{txnId}
/// and PUT .../redact/{eventId}/{txnId}. A transaction ID is scoped per device
/// and per request path (spec: "Transaction identifiers"), so `endpoint` names
/// the path without the txnId: send_endpoint() / redact_endpoint().
struct Transaction {
  std::string device_id;
  std::string txn_id;
  std::string endpoint;
};

/// "send/<room>/<type>": the scope of PUT /rooms/{room}/send/{type}/{txnId}.
inline std::string send_endpoint(std::string_view room_id, std::string_view type) {
  return "send/" + std::string(room_id) + "/" + std::string(type);
}
/// "redact/<room>/<event>": the scope of PUT /rooms/{room}/redact/{event}/{txnId}.
inline std::string redact_endpoint(std::string_view room_id, std::string_view event_id) {
  return "redact/" + std::string(room_id) + "/" + std::string(event_id);
}

struct SentEvent {
  std::string event_id;
  std::int64_t stream_ordering = 0;
};

/// A local event to create, before prev_events/auth_events/hashes/signatures.
struct NewEvent {
  std::string type;
  std::string sender;
  nlohmann::json content = nlohmann::json::object();
  std::optional<std::string> state_key = std::nullopt;
  std::optional<Transaction> txn = std::nullopt;
  /// m.room.redaction: the event it redacts.
  std::optional<std::string> redacts = std::nullopt;
};

/// What the pipeline did with an event: `event` is set unless rejected
/// (nothing is stored then).
struct SendResult {
  Outcome outcome;
  SentEvent event;
};

/// createRoom, once the request has been parsed (client/create_room.cpp).
struct CreateRoom {
  std::string creator;
  std::string room_id;  ///< a fresh ID (matrix::make_room_id)
  std::string version;
  bool is_public = false;
  /// "public_chat", "private_chat" or "trusted_private_chat".
  std::string preset;
  bool is_direct = false;
  std::optional<std::string> alias;  ///< a full alias to create and name canonical
  std::vector<std::string> invites;
  nlohmann::json creation_content = nlohmann::json::object();
  /// (type, state_key, content), never m.room.create or m.room.member.
  struct State {
    std::string type;
    std::string state_key;
    nlohmann::json content;
  };
  std::vector<State> initial_state;
  std::optional<std::string> name;
  std::optional<std::string> topic;
  const nlohmann::json* power_level_override = nullptr;
};

/// join, invite, leave (and kick), ban, unban, knock: an m.room.member event
/// by `sender` about `target`.
struct MembershipChange {
  std::string room_id;
  std::string sender;
  std::string target;
  std::string membership;
  std::optional<std::string> reason = std::nullopt;
  bool is_direct = false;
  /// Only when the target is banned now (unban).
  bool unban = false;
  /// A join's extra content from the client's request body (spec: /join
  /// "extra keys" go into the member event). The keys the server sets
  /// itself are dropped from it (room_membership.cpp).
  nlohmann::json extra_content = nlohmann::json::object();
};

/// A forward extremity of a room, as the admin API shows it.
struct ForwardExtremity {
  std::string event_id;
  std::int64_t depth = 0;
  /// The state group of the state after the event.
  std::optional<std::int64_t> state_group;
  /// When it was sent (origin_server_ts; Eltrix does not keep the receipt
  /// time apart).
  std::int64_t received_ts = 0;
};

class RoomService {
 public:
  virtual ~RoomService() = default;

  /// Builds, checks and persists a local event by `event.sender`. A state
  /// event has a state_key (possibly ""). Rejected (nothing stored): forbidden
  /// by the authorization rules or for an unknown room, invalid content for
  /// its type, too large.
  virtual SendResult send(const std::string& room_id, const NewEvent& event) = 0;

  /// An event built elsewhere (a remote server's PDU, or one backfilled):
  /// checked (hashes, signatures, auth against its auth events and the state
  /// before it, then the current state) and persisted where its prev_events
  /// place it in the DAG, whatever its arrival order.
  virtual SendResult receive(const nlohmann::json& pdu) = 0;

  /// Creates the room and its initial events in one transaction. Rejected
  /// when any of them is (nothing is stored).
  virtual SendResult create_room(const CreateRoom& request) = 0;

  /// Sends the membership event, unless the target's membership already is
  /// a join and a join is asked (clients retry joins), or a leave of a room
  /// left already: then the current event is returned.
  virtual SendResult change_membership(const MembershipChange& change) = 0;

  /// Hides a room the user has left from their sync (spec: /forget).
  virtual Outcome forget(const std::string& room_id, const std::string& user_id) = 0;

  /// The current state event (client format) for (type, state_key), if any.
  virtual std::optional<nlohmann::json> current_state_event(const std::string& room_id,
                                                            const std::string& type,
                                                            const std::string& state_key) = 0;

  /// Rooms `user_id` is joined to now.
  virtual std::vector<std::string> joined_rooms(const std::string& user_id) = 0;

  // ---- operations of the admin API (core/admin/) ----

  /// Every current state event of the room, client format; empty for an
  /// unknown room.
  virtual std::vector<nlohmann::json> current_state_events(const std::string& room_id) = 0;

  /// The room's forward extremities, deepest first.
  virtual std::vector<ForwardExtremity> forward_extremities(const std::string& room_id) = 0;

  /// Drops every forward extremity but the deepest (the newest event),
  /// under the room's exclusive lock, so the next event has one parent
  /// (what an operator does when a room has gathered too many). Returns
  /// how many were dropped.
  virtual std::size_t trim_forward_extremities(const std::string& room_id) = 0;

  /// Deletes the room and everything stored about it (events, state,
  /// memberships, aliases, receipts, room account data), under the room's
  /// exclusive lock, in one transaction. Callers take local members out
  /// first (through change_membership) so their clients see them leave.
  /// False when the room is unknown.
  virtual bool purge_room(const std::string& room_id) = 0;
};

}  // namespace eltrix::rooms
