// The RoomService of this node: builds, authorizes, signs and persists local
// events (see room_service.h), and creates rooms.
#pragma once

#include "rooms/event_store.h"
#include "rooms/room_service.h"

#include <string>
#include <vector>

namespace eltrix::notify {
class Notifier;
}

namespace eltrix::rooms {

class ServerKeys;

/// An event to create, before prev_events/auth_events/hashes/signatures.
struct NewEvent {
  std::string type;
  std::string sender;
  nlohmann::json content = nlohmann::json::object();
  std::optional<std::string> state_key = std::nullopt;
  std::optional<Transaction> txn = std::nullopt;
  /// m.room.redaction: the event it redacts.
  std::optional<std::string> redacts = std::nullopt;
};

class RoomServiceImpl final : public RoomService {
 public:
  RoomServiceImpl(storage::Database& db, ServerKeys& keys, notify::Notifier& notifier,
                  std::string server_name);

  SentEvent send_event(const std::string& room_id, const std::string& sender,
                       const std::string& type, const nlohmann::json& content,
                       const std::optional<std::string>& state_key,
                       const std::optional<Transaction>& txn = std::nullopt) override;
  std::optional<nlohmann::json> current_state_event(const std::string& room_id,
                                                    const std::string& type,
                                                    const std::string& state_key) override;
  std::vector<std::string> joined_rooms(const std::string& user_id) override;

  /// Sends `event` in its own transaction and wakes the syncs that care.
  SentEvent send(const std::string& room_id, const NewEvent& event);

  /// Creates the event inside `tx`, which must hold the room's row lock
  /// (load_room(tx, id, true)); appends the notifier keys to wake after commit.
  SentEvent send_in(storage::Transaction& tx, const RoomInfo& room, const NewEvent& event,
                    std::vector<std::string>& wake);

  /// Wakes the syncs waiting on `keys` (call after the transaction commits).
  void wake(const std::vector<std::string>& keys);

  [[nodiscard]] storage::Database& db() { return db_; }
  [[nodiscard]] const std::string& server_name() const { return server_name_; }

 private:
  storage::Database& db_;
  ServerKeys& keys_;
  notify::Notifier& notifier_;
  std::string server_name_;
};

/// The largest PDU the spec allows (64 KiB of canonical JSON).
inline constexpr std::size_t kMaxPduBytes = 65536;

}  // namespace eltrix::rooms
