// The RoomService of this node: runs every event through the pipeline's
// phases (room_service.h) in one transaction per operation, holding the
// room's row lock, then the after-commit effects.
#pragma once

#include "rooms/after_commit.h"
#include "rooms/build_context.h"
#include "rooms/event_store.h"
#include "rooms/key_ring.h"
#include "rooms/room_service.h"
#include "rooms/wake_effect.h"

#include <functional>
#include <string>
#include <vector>

namespace eltrix::notify {
class Notifier;
}

namespace eltrix::rooms {

class ServerKeys;

class RoomServiceImpl final : public RoomService {
 public:
  /// Wakes syncs after commit (WakeSyncs) and knows this server's own key.
  RoomServiceImpl(storage::Database& db, ServerKeys& keys, notify::Notifier& notifier,
                  std::string server_name);

  SendResult send(const std::string& room_id, const NewEvent& event) override;
  SendResult receive(const nlohmann::json& pdu) override;
  SendResult create_room(const CreateRoom& request) override;
  SendResult change_membership(const MembershipChange& change) override;
  Outcome forget(const std::string& room_id, const std::string& user_id) override;
  std::optional<nlohmann::json> current_state_event(const std::string& room_id,
                                                    const std::string& type,
                                                    const std::string& state_key) override;
  std::vector<std::string> joined_rooms(const std::string& user_id) override;
  std::vector<nlohmann::json> current_state_events(const std::string& room_id) override;
  std::vector<ForwardExtremity> forward_extremities(const std::string& room_id) override;
  std::size_t trim_forward_extremities(const std::string& room_id) override;
  bool purge_room(const std::string& room_id) override;

  /// Where later work appends its after-commit effects (federation outbox,
  /// push, device lists). Append at start-up.
  AfterCommitEffects& effects() { return effects_; }
  /// Other servers' keys, for checking remote events.
  KeyRing& key_ring() { return key_ring_; }

 private:
  using Committed = std::vector<CommittedEvent>;

  /// Build, check and persist one local event in `tx` (room locked).
  /// `read`: the build read, done already with the lock (build_local_event).
  SendResult send_locked(storage::Transaction& tx, const RoomInfo& room, const NewEvent& event,
                         Committed& committed, BuildContext* read = nullptr);
  /// Runs fn(tx, committed) -> SendResult in one write transaction, rolled
  /// back entirely when the result is a rejection; after commit, the effects.
  /// `first`: a statement sent with the BEGIN (the room's lock).
  SendResult write_events(const std::function<SendResult(storage::Transaction&, Committed&)>& fn,
                          const storage::FirstStatement* first = nullptr);

  /// Refuses an invite of a user of another server (D43): without
  /// federation the invite could never reach them. Accepted otherwise.
  [[nodiscard]] Outcome check_invitee_is_local(const std::string& invitee) const;

  storage::Database& db_;
  ServerKeys& keys_;
  std::string server_name_;
  KeyRing key_ring_;
  WakeSyncs wake_;
  AfterCommitEffects effects_;
};

}  // namespace eltrix::rooms
