// Event authorisation rules for room versions 10 and 11 (Matrix spec, "Room
// Versions" v10/v11 "Authorisation rules", and the server-server API's "Auth
// events selection"). Pure functions: the caller supplies the state.
//
// Not checked here, because they need more than the state:
//  - signatures (of the sender's server, and of the server of
//    join_authorised_via_users_server): the caller verifies them first;
//  - rule 2, the consistency of a PDU's own auth_events list: the caller
//    builds the AuthState from those events (or from the room state), using
//    auth_event_keys() to pick them;
//  - the create event's room_id domain (federation only);
//  - third-party invites (m.room.member invites with third_party_invite) are
//    refused as unsupported.
#pragma once

#include "matrix/power_levels.h"
#include "matrix/room_version.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eltrix::matrix {

/// The room state the rules consult, keyed by (type, state_key). Events are in
/// the federation (PDU) format: {type, state_key, sender, content, room_id,
/// event_id, prev_events, ...}.
class AuthState {
 public:
  /// Stores (or replaces) the event under its type/state_key. Events without a
  /// string type and state_key are not state and are ignored.
  void put(const nlohmann::json& event);
  /// Null when the state has no such event.
  const nlohmann::json* get(std::string_view type, std::string_view state_key) const;
  void erase(std::string_view type, std::string_view state_key);
  std::size_t size() const { return events_.size(); }

 private:
  std::map<std::pair<std::string, std::string>, nlohmann::json> events_;
};

struct AuthResult {
  bool allowed = false;
  /// Why it was refused, safe to show a client, e.g. "You don't have
  /// permission to ban (need 50, have 0)". Empty when allowed.
  std::string reason;
  explicit operator bool() const { return allowed; }
};

/// The (type, state_key) pairs whose current events are the auth events of
/// `event` (spec "Auth events selection"): none for m.room.create; otherwise
/// the create event, power levels, the sender's member event, and for
/// m.room.member also the target's member event, the join rules when the
/// membership is join/invite/knock, the m.room.third_party_invite named by
/// content.third_party_invite.signed.token, and for joins the member event of
/// content.join_authorised_via_users_server. No duplicates.
std::vector<std::pair<std::string, std::string>> auth_event_keys(const nlohmann::json& event);

/// Checks `event` against the authorisation rules of `version`, given the state
/// before the event (at least the events auth_event_keys() names).
/// m.room.redaction is authorised like any other event (its events/events_default
/// level): the redact level decides whether it is applied, see may_redact().
AuthResult check_auth(const nlohmann::json& event, const AuthState& state,
                      const RoomVersion& version);

/// Spec "Handling redactions": whether an authorised redaction sent by
/// `redaction_sender` takes effect on an event sent by `original_sender`: yes
/// when the redacter has the redact level, or both are on the same server
/// (so everyone can redact their own events).
bool may_redact(std::string_view redaction_sender, std::string_view original_sender,
                const PowerLevels& levels);

}  // namespace eltrix::matrix
