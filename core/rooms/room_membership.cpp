// RoomServiceImpl::change_membership: join, invite, leave, kick, ban, unban,
// knock, as one operation of the room service (the room is locked and the
// event sent in one transaction, the syncs woken after commit).
#include "matrix/ids.h"
#include "rooms/member_profile.h"
#include "rooms/room_service_impl.h"

namespace eltrix::rooms {

nlohmann::json member_profile(storage::Transaction& tx, const std::string& user_id) {
  nlohmann::json out = nlohmann::json::object();
  auto row =
      tx.exec_optional("SELECT displayname, avatar_url FROM users WHERE user_id = $1", user_id);
  if (row) {
    if (auto name = storage::nullable<std::string>((*row)[0])) out["displayname"] = *name;
    if (auto avatar = storage::nullable<std::string>((*row)[1])) out["avatar_url"] = *avatar;
  }
  return out;
}

Outcome RoomServiceImpl::check_invitee_is_local(const std::string& invitee) const {
  if (matrix::server_of(invitee) == server_name_) return Outcome::accepted();
  return Outcome::rejected(Rejection::forbidden,
                           "Cannot invite " + invitee + ": this server does not federate yet, " +
                               "so an invite could never reach " + matrix::server_of(invitee));
}

SendResult RoomServiceImpl::change_membership(const MembershipChange& change) {
  if (change.membership == "invite") {
    if (auto local = check_invitee_is_local(change.target); local.is_rejected()) {
      return {local, {}};
    }
  }
  // Locked (with the BEGIN) before the membership is read, so a concurrent
  // change cannot slip in between.
  const storage::FirstStatement lock = lock_room_statement(change.room_id, RoomLock::exclusive);
  return write_events(
      [&](storage::Transaction& tx, Committed& committed) -> SendResult {
        auto room = locked_room(tx, change.room_id);
        auto current = membership_of(tx, change.room_id, change.target);
        auto unchanged = [&] {
          return SendResult{Outcome::accepted(), {current->event_id, current->stream}};
        };
        // Clients retry joins and leaves: a repeat is a no-op.
        if (change.membership == "join" && current && current->membership == "join")
          return unchanged();
        if (change.membership == "leave" && change.target == change.sender && !change.unban) {
          if (current && current->membership == "leave") return unchanged();
          // Leaving a room never entered is refused.
          if (!current) {
            return {
                Outcome::rejected(Rejection::forbidden, "You are not in room " + change.room_id),
                {}};
          }
        }
        if (!room) {
          return {Outcome::rejected(Rejection::not_found, "Unknown room " + change.room_id), {}};
        }
        if (change.unban && (!current || current->membership != "ban")) {
          return {Outcome::rejected(Rejection::forbidden,
                                    change.target + " is not banned from this room"),
                  {}};
        }
        // A kick (a leave by someone else that is not an unban) of a user who
        // is not in the room, or who is banned, is refused (D42). The
        // authorization rules cannot tell these apart: a kick and an unban are
        // the same event there, and a leave of a non-member by someone with
        // kick power is allowed, so remote events must still pass them as the
        // spec says. Only the local operation knows what the client asked for.
        if (change.membership == "leave" && change.target != change.sender && !change.unban) {
          if (current && current->membership == "ban") {
            return {Outcome::rejected(
                        Rejection::forbidden,
                        change.target + " is banned from this room; unban them " + "instead"),
                    {}};
          }
          if (!current || (current->membership != "join" && current->membership != "invite" &&
                           current->membership != "knock")) {
            return {Outcome::rejected(Rejection::forbidden, change.target + " is not in this room"),
                    {}};
          }
        }
        // A room an admin blocked (admin API) takes nobody in any more.
        if ((change.membership == "join" || change.membership == "invite" ||
             change.membership == "knock") &&
            tx.exec_optional("SELECT 1 FROM blocked_rooms WHERE room_id = $1", change.room_id)) {
          return {
              Outcome::rejected(Rejection::forbidden, "This room has been blocked on this server"),
              {}};
        }
        nlohmann::json content = nlohmann::json::object();
        if (change.membership == "join" && change.extra_content.is_object()) {
          content = change.extra_content;
          // Set by the server, never by the client: the membership, the
          // profile (another user's name must not be claimed), and the
          // authorising user of a restricted join, which the auth rules trust
          // (naming a room admin there would let anyone in).
          for (const char* key : {"membership", "displayname", "avatar_url",
                                  "join_authorised_via_users_server", "reason"}) {
            content.erase(key);
          }
        }
        if (change.membership == "join" || change.membership == "invite") {
          content.update(member_profile(tx, change.target));
        }
        content["membership"] = change.membership;
        if (change.reason) content["reason"] = *change.reason;
        if (change.membership == "invite" && change.is_direct) content["is_direct"] = true;
        NewEvent event{.type = "m.room.member",
                       .sender = change.sender,
                       .content = content,
                       .state_key = change.target};
        return send_locked(tx, *room, event, committed);
      },
      &lock);
}

}  // namespace eltrix::rooms
