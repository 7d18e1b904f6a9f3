// What the admin API reads about rooms (the room list and details, members)
// and the rooms it blocks (migrations/0011_admin_api.sql). Read-only over
// the room tables: every change to a room goes through the room service.
#pragma once

#include "storage/database.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::storage {

/// A room as the admin room list shows it, from its current state.
struct AdminRoom {
  std::string room_id;
  std::optional<std::string> name;
  std::optional<std::string> canonical_alias;
  std::optional<std::string> topic;
  std::optional<std::string> avatar;
  std::int64_t joined_members = 0;
  std::int64_t joined_local_members = 0;
  std::string version;
  std::string creator;
  std::optional<std::string> encryption;
  bool federatable = true;
  bool is_public = false;
  std::optional<std::string> join_rules;
  std::optional<std::string> guest_access;
  std::optional<std::string> history_visibility;
  std::int64_t state_events = 0;
  std::optional<std::string> room_type;
};

enum class RoomOrder {
  name,
  canonical_alias,
  joined_members,
  joined_local_members,
  version,
  creator,
  encryption,
  federatable,
  is_public,
  join_rules,
  guest_access,
  history_visibility,
  state_events,
};

struct RoomListQuery {
  std::int64_t from = 0;
  std::int64_t limit = 100;
  /// Substring of the name, the canonical alias or the room ID.
  std::optional<std::string> search_term;
  RoomOrder order = RoomOrder::name;
  bool backwards = false;
};

struct RoomListPage {
  std::vector<AdminRoom> rooms;
  std::int64_t total = 0;
};

/// `server_name` tells local members from others.
RoomListPage list_rooms(Transaction& tx, const RoomListQuery& query, std::string_view server_name);

std::optional<AdminRoom> find_admin_room(Transaction& tx, std::string_view room_id,
                                         std::string_view server_name);

/// The users joined to the room now.
std::vector<std::string> joined_members(Transaction& tx, std::string_view room_id);

/// Local users whose membership of the room is join, invite or knock.
std::vector<std::string> local_members(Transaction& tx, std::string_view room_id,
                                       std::string_view server_name);

/// The PDUs (JSON text) of the room's newest `limit` events that mention
/// an mxc:// URI, newest first (the media a room refers to).
std::vector<std::string> pdus_with_media(Transaction& tx, std::string_view room_id,
                                         std::int64_t limit);

/// Who blocked the room, if it is blocked.
std::optional<std::string> room_blocked_by(Transaction& tx, std::string_view room_id);
void block_room(Transaction& tx, std::string_view room_id, std::string_view by, std::int64_t now);
void unblock_room(Transaction& tx, std::string_view room_id);

// ---- room deletions (DELETE /_synapse/admin/v2/rooms/{id}) ----------------

struct RoomDeletion {
  std::string delete_id;
  std::string room_id;
  std::string requester;
  /// "shutting_down", "purging", "complete" or "failed" (Synapse's words).
  std::string status;
  std::string params_json;
  std::optional<std::string> result_json;
  std::optional<std::string> error;
  std::int64_t created_ts = 0;
};

void insert_room_deletion(Transaction& tx, const RoomDeletion& deletion);
void update_room_deletion(Transaction& tx, std::string_view delete_id, std::string_view status,
                          const std::optional<std::string>& result_json,
                          const std::optional<std::string>& error, std::int64_t now);
std::optional<RoomDeletion> find_room_deletion(Transaction& tx, std::string_view delete_id);
/// The room's deletions created at or after `since`, newest first.
std::vector<RoomDeletion> room_deletions_of(Transaction& tx, std::string_view room_id,
                                            std::int64_t since);
/// Whether a deletion of the room is still running (updated at or after
/// `alive_since`: an older running one was left by a node that died).
bool room_deletion_running(Transaction& tx, std::string_view room_id, std::int64_t alive_since);

}  // namespace eltrix::storage
