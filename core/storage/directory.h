// The room directory (spec: "Room aliases", "Listing rooms", "User
// Directory"): alias mappings in room_aliases (migration 0005), directory
// visibility in rooms.is_public, the public room list and the user directory
// search. Every function runs inside the caller's transaction, so createRoom
// can claim its alias atomically with the room it creates.
#pragma once

#include "storage/database.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::storage {

// ---- Aliases -------------------------------------------------------------------

struct AliasMapping {
  std::string room_id;
  std::string creator;  ///< who created the alias (may delete it)
};

/// Most aliases listed for one room (GET /rooms/{roomId}/aliases); a room
/// with more lists the oldest ones.
inline constexpr std::size_t kMaxAliasesListed = 500;

/// The room `alias` points to, if any.
std::optional<AliasMapping> get_alias(Transaction& tx, std::string_view alias);

/// Maps `alias` to `room_id`; false when the alias is already taken (nothing
/// is changed). The caller has validated the alias and the room.
bool insert_alias(Transaction& tx, std::string_view alias, std::string_view room_id,
                  std::string_view creator);

/// For createRoom's room_alias_name: insert_alias(), but a taken alias throws
/// errors::Error conflict M_ROOM_IN_USE (400, the spec's createRoom error), which
/// aborts the caller's transaction and so the room creation.
void create_alias(Transaction& tx, std::string_view alias, std::string_view room_id,
                  std::string_view creator);

/// Removes the mapping; false when there was none.
bool delete_alias(Transaction& tx, std::string_view alias);

/// The local aliases of `room_id`, oldest first (at most kMaxAliasesListed).
std::vector<std::string> room_aliases(Transaction& tx, std::string_view room_id);

/// Checks the content of an m.room.canonical_alias event about to be sent in
/// `room_id` (spec: PUT /rooms/{roomId}/state, errors):
///  - `alias` must be absent, null, "" or a valid room alias, and
///    `alt_aliases` absent or an array of valid room aliases: otherwise
///    400 M_INVALID_PARAM;
///  - every alias that the room's current m.room.canonical_alias does not
///    already name must map to `room_id` here: otherwise 400 M_BAD_ALIAS.
/// Aliases the current event already names are not re-checked, so removing
/// one alias still works after another one was deleted or moved. Aliases of
/// other servers cannot be resolved without federation, so new ones are
/// refused with M_BAD_ALIAS.
void validate_canonical_alias(Transaction& tx, std::string_view room_id,
                              const nlohmann::json& content);

// ---- Room state and membership used by the directory checks --------------------

/// Basic facts about a room: its creator (for power levels without an
/// m.room.power_levels event) and whether it is published in the directory.
struct DirectoryRoom {
  std::string creator;
  bool is_public = false;
};
std::optional<DirectoryRoom> get_directory_room(Transaction& tx, std::string_view room_id);

/// Publishes or hides the room; false when the room is unknown.
bool set_room_public(Transaction& tx, std::string_view room_id, bool is_public);

/// The content of the current state event (type, state_key), if any.
std::optional<nlohmann::json> current_state_content(Transaction& tx, std::string_view room_id,
                                                    std::string_view type,
                                                    std::string_view state_key);

/// The user's current membership in the room ("join", "leave", ...), if any.
std::optional<std::string> membership_of(Transaction& tx, std::string_view room_id,
                                         std::string_view user_id);

// ---- publicRooms -----------------------------------------------------------------

struct PublicRoomsQuery {
  std::size_t limit = 100;
  /// Case-insensitive substring of the name, topic or canonical alias.
  std::string search_term;
  /// When set: only rooms whose m.room.create type is listed (nullopt entry:
  /// rooms without a type).
  std::optional<std::vector<std::optional<std::string>>> room_types;
  /// Keyset pagination: rooms strictly after (forward) or before (backward)
  /// the room (joined_members, room_id) in the listing order.
  struct Position {
    bool forward = true;
    std::int64_t joined_members = 0;
    std::string room_id;
  };
  std::optional<Position> since;
};

struct PublicRoom {
  std::string room_id;
  std::int64_t joined_members = 0;
  std::optional<std::string> name, topic, canonical_alias, avatar_url, join_rule, room_type;
  bool world_readable = false;
  bool guest_can_join = false;
};

struct PublicRoomsPage {
  std::vector<PublicRoom> rooms;      ///< in listing order
  bool more_before = false;           ///< rooms precede rooms.front()
  bool more_after = false;            ///< rooms follow rooms.back()
  std::optional<std::int64_t> total;  ///< rooms matching the query, when known
};

/// Published rooms that are joinable without an invite (join rule public,
/// knock or knock_restricted) or world-readable, with at least one joined
/// member, ordered by joined members (most first), then room ID.
PublicRoomsPage list_public_rooms(Transaction& tx, const PublicRoomsQuery& query);

// ---- User directory -------------------------------------------------------------

struct DirectoryUser {
  std::string user_id;
  std::optional<std::string> display_name;
  std::optional<std::string> avatar_url;
};

struct UserSearchResult {
  std::vector<DirectoryUser> users;
  bool limited = false;
};

/// Local users whose localpart starts with `term`, or whose display name has
/// a word starting with each word of `term` (case-insensitive), among the
/// users who share a room with `requester` or are joined to a room anyone
/// can join or read (join rule public, or history world_readable).
UserSearchResult search_users(Transaction& tx, std::string_view requester, std::string_view term,
                              std::size_t limit);

/// `text` with LIKE's wildcards ('%', '_') and its escape character ('\')
/// escaped, for "... LIKE $1 || '%'" (the default escape character).
std::string escape_like(std::string_view text);

}  // namespace eltrix::storage
