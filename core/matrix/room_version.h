// Room versions this server implements, and the algorithm choices each makes.
// (Matrix spec, "Room Versions": v10 and v11 share auth rules; v11 changes the
// redaction algorithm and drops m.room.create's "creator".)
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace eltrix::matrix {

struct RoomVersion {
  std::string_view id;
  /// v11: the room creator is the create event's sender ("creator" is gone),
  /// and redaction keeps more (spec §"Redactions", v11 changes).
  bool v11_redaction = false;
  bool creator_is_sender = false;
  /// v10: power-level values must be integers (not strings).
  bool integer_power_levels = true;
  bool knock = true;
  bool restricted_join = true;
};

inline constexpr RoomVersion kRoomVersion10{.id = "10"};
inline constexpr RoomVersion kRoomVersion11{
    .id = "11", .v11_redaction = true, .creator_is_sender = true};

inline constexpr std::string_view kDefaultRoomVersion = "10";

/// The versions we can create and serve, newest last.
std::span<const RoomVersion> supported_room_versions();
/// Null when `id` is not a version we implement.
const RoomVersion* find_room_version(std::string_view id);

}  // namespace eltrix::matrix
