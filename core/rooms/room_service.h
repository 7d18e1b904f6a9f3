// Rooms: the one path every new local event takes. It fills in prev_events,
// auth_events and depth, checks the room version's authorization rules
// against the current state, hashes and signs the event, and persists it with
// the state and membership it changes, in one transaction. Then it wakes the
// syncs that care.
#pragma once

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

class RoomService {
 public:
  virtual ~RoomService() = default;

  /// Creates, authorizes and persists an event by `sender` in `room_id`.
  /// A state event has a state_key (possibly ""). Throws errors::Error:
  /// forbidden (403 M_FORBIDDEN) when the authorization rules refuse it (nothing is
  /// stored) and for an unknown room, 400 M_BAD_JSON for content
  /// that is not valid for its type.
  virtual SentEvent send_event(const std::string& room_id, const std::string& sender,
                               const std::string& type, const nlohmann::json& content,
                               const std::optional<std::string>& state_key,
                               const std::optional<Transaction>& txn = std::nullopt) = 0;

  /// The current state event (client format) for (type, state_key), if any.
  virtual std::optional<nlohmann::json> current_state_event(const std::string& room_id,
                                                            const std::string& type,
                                                            const std::string& state_key) = 0;

  /// Rooms `user_id` is joined to now.
  virtual std::vector<std::string> joined_rooms(const std::string& user_id) = 0;
};

}  // namespace eltrix::rooms
