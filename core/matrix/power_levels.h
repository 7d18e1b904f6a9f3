// Power levels (Matrix spec, client-server API "m.room.power_levels", and the
// room version 10/11 authorisation rules that consult them). Pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::matrix {

/// Largest magnitude a power level may have (canonical JSON integer range).
inline constexpr std::int64_t kMaxPowerLevel = (std::int64_t{1} << 53) - 1;

/// The levels of an m.room.power_levels event, with the spec defaults filled in.
struct PowerLevels {
  std::int64_t ban = 50, kick = 50, invite = 0, redact = 50, state_default = 50, events_default = 0,
               users_default = 0;
  std::map<std::string, std::int64_t> events, users;
  std::int64_t notifications_room = 50;

  /// From m.room.power_levels content. nullptr: the room has no power levels
  /// event, so `creator` has 100 and everyone else users_default (0).
  /// Room versions 10 and 11 require integer values: strings, floats and
  /// out-of-range numbers, non-object `events`/`notifications`/`users`, and
  /// `users` keys that are not user IDs give nullopt (and a reason in `why`).
  ///
  /// Note: with no power levels event state_default is 50, as in the current
  /// spec (older text said 0; the spec removed that as outdated, and it is
  /// what other servers do, so state resolution agrees).
  static std::optional<PowerLevels> parse(const nlohmann::json* content, std::string_view creator,
                                          std::string* why = nullptr);

  /// The user's level: their `users` entry, else users_default.
  std::int64_t user_level(std::string_view user_id) const;
  /// The level needed to send an event of `type`: its `events` entry, else
  /// state_default for state events and events_default for the others.
  std::int64_t event_level(std::string_view type, bool is_state) const;
};

/// Default content of m.room.power_levels for createRoom: the creator and each
/// of `extra_admins` (trusted_private_chat invitees) at 100, invite 0 (every
/// preset), and the usual stricter levels for room-wide state events.
/// createRoom's power_level_content_override is applied on top by the caller.
nlohmann::json default_power_levels_content(std::string_view creator,
                                            const std::vector<std::string>& extra_admins);

}  // namespace eltrix::matrix
