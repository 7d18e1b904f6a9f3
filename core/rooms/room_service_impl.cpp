#include "rooms/room_service_impl.h"

#include "rooms/event_build.h"
#include "rooms/event_check.h"
#include "rooms/event_persist.h"
#include "rooms/event_receive.h"
#include "rooms/server_keys.h"
#include "storage/error.h"

namespace eltrix::rooms {

namespace {

/// Carries a rejection out of the transaction, so it rolls back.
struct RejectedInTransaction {
  Outcome outcome;
};

/// A local event that neither changes state nor redacts: others like it in
/// the same room may be built and committed at the same time (RoomLock).
bool may_share_room(const NewEvent& event) {
  return !event.state_key && !event.redacts && event.type != "m.room.redaction";
}

}  // namespace

RoomServiceImpl::RoomServiceImpl(storage::Database& db, ServerKeys& keys,
                                 notify::Notifier& notifier, std::string server_name)
    : db_(db), keys_(keys), server_name_(std::move(server_name)), wake_(notifier) {
  effects_.append(wake_);
}

SendResult RoomServiceImpl::write_events(
    const std::function<SendResult(storage::Transaction&, Committed&)>& fn,
    const storage::FirstStatement* first) {
  Committed committed;
  SendResult result;
  auto body = [&](storage::Transaction& tx) {
    committed.clear();
    SendResult r = fn(tx, committed);
    if (r.outcome.is_rejected()) throw RejectedInTransaction{r.outcome};
    return r;
  };
  try {
    result = first != nullptr ? db_.write(*first, body) : db_.write(body);
  } catch (const RejectedInTransaction& rejected) {
    return {rejected.outcome, {}};
  }
  effects_.run(committed);
  return result;
}

SendResult RoomServiceImpl::send_locked(storage::Transaction& tx, const RoomInfo& room,
                                        const NewEvent& event, Committed& committed,
                                        BuildContext* read) {
  // A retried PUT .../send/{txnId} returns the first event (spec:
  // "Transaction identifiers"): build finds it, and persist's insert of the
  // ID is a unique violation should the first commit meanwhile (send()).
  PendingEvent pending;
  std::optional<SentEvent> earlier;
  if (auto built = build_local_event(tx, room, event, *keys_.signing_key(tx), server_name_, pending,
                                     earlier, read);
      !built.is_accepted()) {
    return {built, {}};
  }
  if (earlier) return {Outcome::accepted(), *earlier};
  const Outcome outcome = check_event(tx, pending, key_ring_);
  if (outcome.is_rejected()) return {outcome, {}};
  committed.push_back(persist_event(tx, pending, outcome));
  return {outcome, {committed.back().event_id, committed.back().stream}};
}

SendResult RoomServiceImpl::send(const std::string& room_id, const NewEvent& event) {
  if (auto content = check_new_content(event); !content.is_accepted()) return {content, {}};
  // A message knows its auth events before its transaction starts, so its
  // build read goes with the lock and BEGIN: one round trip (D39).
  const bool shared = may_share_room(event);
  const auto auth_keys =
      shared ? auth_keys_before_build(event) : std::vector<std::pair<std::string, std::string>>{};
  const storage::FirstStatement lock =
      shared ? lock_room_and_read_build_context(room_id, RoomLock::shared, auth_keys, event.txn,
                                                event.sender)
             : lock_room_statement(room_id, RoomLock::exclusive);
  auto attempt = [&] {
    return write_events(
        [&](storage::Transaction& tx, Committed& committed) -> SendResult {
          auto room = locked_room(tx, room_id);
          // As for a room the sender is not in: whether a room exists is not
          // revealed to non-members (spec: 403 for send and state).
          if (!room)
            return {Outcome::rejected(Rejection::forbidden, "You are not in room " + room_id), {}};
          if (!shared) return send_locked(tx, *room, event, committed);
          BuildContext read = locked_build_context(tx, auth_keys);
          return send_locked(tx, *room, event, committed, &read);
        },
        &lock);
  };
  // Under a shared lock two sends can collide on a unique key, each rolled
  // back and run again, after which the other's event is committed:
  // - the same transaction ID (a client's retry racing its first attempt):
  //   the second finds the first event;
  // - the same event: same sender, content, millisecond and parents give the
  //   same event ID; the second is built on the first;
  // - two senders adding an extremity slot whose numbers collide (D38).
  constexpr int kAttempts = 3;
  for (int n = 1;; ++n) {
    try {
      return attempt();
    } catch (const storage::StorageError& e) {
      if (!e.unique_violation()) throw;
      if (n == kAttempts) throw SendCollision{};
    }
  }
}

SendResult RoomServiceImpl::receive(const nlohmann::json& pdu) {
  const std::string room_id =
      pdu.is_object() && pdu.contains("room_id") && pdu["room_id"].is_string()
          ? pdu["room_id"].get<std::string>()
          : std::string();
  const storage::FirstStatement lock = lock_room_statement(room_id, RoomLock::exclusive);
  return write_events(
      [&](storage::Transaction& tx, Committed& committed) -> SendResult {
        auto room = locked_room(tx, room_id);
        if (!room) return {Outcome::rejected(Rejection::not_found, "Unknown room " + room_id), {}};
        PendingEvent pending;
        if (auto read = read_remote_event(tx, *room, pdu, pending); !read.is_accepted()) {
          return {read, {}};
        }
        // Received twice (a retried transaction, a backfill overlapping): the
        // first one stands.
        if (auto row = tx.exec_optional("SELECT stream_ordering FROM events WHERE event_id = $1",
                                        pending.event_id)) {
          return {Outcome::accepted(), {pending.event_id, (*row)[0].as<std::int64_t>()}};
        }
        // This server's own keys, retired ones included: an event of ours
        // that comes back (backfill, another server's copy) must verify.
        for (const VerifyKey& key : *keys_.verify_keys(tx)) {
          auto known = key_ring_.find(server_name_, key.key_id);
          if (!known || known->expired_ts != key.expired_ts) {
            key_ring_.add(server_name_, key.key_id, key.public_key_base64, key.expired_ts);
          }
        }
        const Outcome outcome = check_event(tx, pending, key_ring_);
        if (outcome.is_rejected()) return {outcome, {}};
        committed.push_back(persist_event(tx, pending, outcome));
        return {outcome, {committed.back().event_id, committed.back().stream}};
      },
      &lock);
}

Outcome RoomServiceImpl::forget(const std::string& room_id, const std::string& user_id) {
  return db_.write([&](storage::Transaction& tx) {
    auto current = membership_of(tx, room_id, user_id);
    if (!current) {
      return Outcome::rejected(Rejection::not_found, "You have never been in room " + room_id);
    }
    if (current->membership == "join" || current->membership == "invite") {
      return Outcome::rejected(Rejection::invalid, "Leave the room before forgetting it");
    }
    tx.exec("UPDATE room_memberships SET forgotten = true WHERE user_id = $1 AND room_id = $2",
            user_id, room_id);
    return Outcome::accepted();
  });
}

std::optional<nlohmann::json> RoomServiceImpl::current_state_event(const std::string& room_id,
                                                                   const std::string& type,
                                                                   const std::string& state_key) {
  return db_.read([&](storage::Transaction& tx) -> std::optional<nlohmann::json> {
    auto event = rooms::current_state_event(tx, room_id, type, state_key);
    if (!event) return std::nullopt;
    return client_event(*event, "", "", now_ms());
  });
}

std::vector<std::string> RoomServiceImpl::joined_rooms(const std::string& user_id) {
  return db_.read([&](storage::Transaction& tx) {
    std::vector<std::string> rooms;
    for (const auto& row :
         tx.exec("SELECT room_id FROM room_memberships WHERE user_id = $1 AND membership = 'join' "
                 "ORDER BY room_id",
                 user_id)) {
      rooms.push_back(row[0].as<std::string>());
    }
    return rooms;
  });
}

}  // namespace eltrix::rooms
