// What the pipeline decided about an event (rooms/event_check.h): accepted,
// soft-failed (kept in the DAG but not made current: it passed its auth
// events and the state before it, not the room's current state), or
// rejected, with the reason. Returned, never thrown: the caller decides what
// a rejection means (the Client-Server API maps it to an errcode and status
// in client/room_access.cpp; federation will answer a transaction with it).
#pragma once

#include <string>
#include <utility>

namespace eltrix::rooms {

enum class Verdict { accepted, soft_failed, rejected };

/// Why an event was rejected, in the terms a caller maps to its protocol.
enum class Rejection {
  none,
  forbidden,            ///< the authorization rules (or a precondition) refuse it
  invalid,              ///< malformed: content, type or state key
  too_large,            ///< over the PDU size limit
  not_found,            ///< it names a room or event that does not exist
  unsupported_version,  ///< the room's version is not one this server implements
  bad_signature,        ///< a remote event whose signatures do not verify
  bad_alias,            ///< m.room.canonical_alias names an alias of another room
  bad_alias_syntax,     ///< m.room.canonical_alias names something that is no alias
  other_room,           ///< a local redaction names an event of another room
};

struct Outcome {
  Verdict verdict = Verdict::accepted;
  Rejection rejection = Rejection::none;
  std::string reason;

  static Outcome accepted() { return {}; }
  static Outcome soft_failed(std::string why) {
    return {Verdict::soft_failed, Rejection::none, std::move(why)};
  }
  static Outcome rejected(Rejection kind, std::string why) {
    return {Verdict::rejected, kind, std::move(why)};
  }
  [[nodiscard]] bool is_accepted() const { return verdict == Verdict::accepted; }
  [[nodiscard]] bool is_rejected() const { return verdict == Verdict::rejected; }
};

}  // namespace eltrix::rooms
