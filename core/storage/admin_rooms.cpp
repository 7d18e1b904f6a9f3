#include "storage/admin_rooms.h"

#include <fmt/format.h>

namespace eltrix::storage {
namespace {

/// One field of a current state event's content (events.sql_content holds
/// a state event's whole content).
std::string state_field(std::string_view type, std::string_view field) {
  return fmt::format(
      "(SELECT e.sql_content ->> '{}' FROM current_state cs JOIN events e "
      "ON e.event_id = cs.event_id WHERE cs.room_id = r.room_id AND cs.type = '{}' "
      "AND cs.state_key = '')",
      field, type);
}

/// The per-room facts of the list, one row per room. $1 is this server's
/// name (local members end with ":" + it). Computed per room from current
/// state: O(rooms) per call, which suits an admin's occasional look (Synapse
/// keeps statistics tables for this; a server with very many rooms would
/// want them too).
std::string room_facts() {
  return fmt::format(
      "SELECT r.room_id, {} AS name, {} AS canonical_alias, {} AS topic, {} AS avatar, "
      "(SELECT count(*) FROM room_memberships m WHERE m.room_id = r.room_id "
      "  AND m.membership = 'join') AS joined_members, "
      "(SELECT count(*) FROM room_memberships m WHERE m.room_id = r.room_id "
      "  AND m.membership = 'join' AND right(m.user_id, length($1) + 1) = ':' || $1) "
      "  AS joined_local_members, "
      "r.room_version AS version, r.creator, {} AS encryption, "
      "coalesce({}, 'true') <> 'false' AS federatable, r.is_public, {} AS join_rules, "
      "{} AS guest_access, {} AS history_visibility, "
      "(SELECT count(*) FROM current_state cs WHERE cs.room_id = r.room_id) AS state_events, "
      "{} AS room_type FROM rooms r",
      state_field("m.room.name", "name"), state_field("m.room.canonical_alias", "alias"),
      state_field("m.room.topic", "topic"), state_field("m.room.avatar", "url"),
      state_field("m.room.encryption", "algorithm"), state_field("m.room.create", "m.federate"),
      state_field("m.room.join_rules", "join_rule"),
      state_field("m.room.guest_access", "guest_access"),
      state_field("m.room.history_visibility", "history_visibility"),
      state_field("m.room.create", "type"));
}

AdminRoom room_from(const pqxx::row& row) {
  return AdminRoom{
      .room_id = row["room_id"].as<std::string>(),
      .name = nullable<std::string>(row["name"]),
      .canonical_alias = nullable<std::string>(row["canonical_alias"]),
      .topic = nullable<std::string>(row["topic"]),
      .avatar = nullable<std::string>(row["avatar"]),
      .joined_members = row["joined_members"].as<std::int64_t>(),
      .joined_local_members = row["joined_local_members"].as<std::int64_t>(),
      .version = row["version"].as<std::string>(),
      .creator = row["creator"].as<std::string>(),
      .encryption = nullable<std::string>(row["encryption"]),
      .federatable = row["federatable"].as<bool>(),
      .is_public = row["is_public"].as<bool>(),
      .join_rules = nullable<std::string>(row["join_rules"]),
      .guest_access = nullable<std::string>(row["guest_access"]),
      .history_visibility = nullable<std::string>(row["history_visibility"]),
      .state_events = row["state_events"].as<std::int64_t>(),
      .room_type = nullable<std::string>(row["room_type"]),
  };
}

const char* order_column(RoomOrder order) {
  switch (order) {
    case RoomOrder::name: return "name";
    case RoomOrder::canonical_alias: return "canonical_alias";
    case RoomOrder::joined_members: return "joined_members";
    case RoomOrder::joined_local_members: return "joined_local_members";
    case RoomOrder::version: return "version";
    case RoomOrder::creator: return "creator";
    case RoomOrder::encryption: return "encryption";
    case RoomOrder::federatable: return "federatable";
    case RoomOrder::is_public: return "is_public";
    case RoomOrder::join_rules: return "join_rules";
    case RoomOrder::guest_access: return "guest_access";
    case RoomOrder::history_visibility: return "history_visibility";
    case RoomOrder::state_events: return "state_events";
  }
  return "name";
}

/// Synapse sorts counts and the version largest first when going forwards.
bool largest_first(RoomOrder order) {
  return order == RoomOrder::joined_members || order == RoomOrder::joined_local_members ||
         order == RoomOrder::version || order == RoomOrder::state_events ||
         order == RoomOrder::federatable || order == RoomOrder::is_public;
}

}  // namespace

RoomListPage list_rooms(Transaction& tx, const RoomListQuery& query, std::string_view server_name) {
  // $2: the search term, matched as a substring (strpos: no LIKE escapes)
  // of the name and the alias (case-insensitive) and of the room ID
  // (case-sensitive, as Synapse does).
  const std::string where =
      " WHERE ($2::text IS NULL OR strpos(lower(coalesce(name, '')), lower($2)) > 0"
      " OR strpos(lower(coalesce(canonical_alias, '')), lower($2)) > 0"
      " OR strpos(room_id, $2) > 0)";
  const bool descending = largest_first(query.order) != query.backwards;
  const char* dir = descending ? "DESC" : "ASC";
  const std::string order =
      fmt::format(" ORDER BY {} {} NULLS LAST, room_id {}", order_column(query.order), dir, dir);
  const std::string facts = "WITH facts AS (" + room_facts() + ") ";
  const std::string select =
      fmt::format("{}SELECT * FROM facts{}{} OFFSET $3 LIMIT $4", facts, where, order);
  RoomListPage page;
  for (const auto& row : tx.exec(select, server_name, query.search_term, query.from, query.limit)) {
    page.rooms.push_back(room_from(row));
  }
  page.total =
      tx.exec1(facts + "SELECT count(*) FROM facts" + where, server_name, query.search_term)[0]
          .as<std::int64_t>();
  return page;
}

std::optional<AdminRoom> find_admin_room(Transaction& tx, std::string_view room_id,
                                         std::string_view server_name) {
  auto row = tx.exec_optional(room_facts() + " WHERE r.room_id = $2", server_name, room_id);
  if (!row) return std::nullopt;
  return room_from(*row);
}

std::vector<std::string> joined_members(Transaction& tx, std::string_view room_id) {
  std::vector<std::string> out;
  for (const auto& row :
       tx.exec("SELECT user_id FROM room_memberships WHERE room_id = $1 AND membership = 'join' "
               "ORDER BY user_id",
               room_id)) {
    out.push_back(row[0].as<std::string>());
  }
  return out;
}

std::vector<std::string> local_members(Transaction& tx, std::string_view room_id,
                                       std::string_view server_name) {
  std::vector<std::string> out;
  for (const auto& row : tx.exec("SELECT user_id FROM room_memberships WHERE room_id = $1 "
                                 "AND membership IN ('join', 'invite', 'knock') "
                                 "AND right(user_id, length($2) + 1) = ':' || $2 ORDER BY user_id",
                                 room_id, server_name)) {
    out.push_back(row[0].as<std::string>());
  }
  return out;
}

std::vector<std::string> pdus_with_media(Transaction& tx, std::string_view room_id,
                                         std::int64_t limit) {
  std::vector<std::string> out;
  for (const auto& row :
       tx.exec("SELECT pdu FROM events WHERE room_id = $1 AND strpos(pdu, 'mxc://') > 0 "
               "ORDER BY stream_ordering DESC LIMIT $2",
               room_id, limit)) {
    out.push_back(row[0].as<std::string>());
  }
  return out;
}

std::optional<std::string> room_blocked_by(Transaction& tx, std::string_view room_id) {
  auto row = tx.exec_optional("SELECT blocked_by FROM blocked_rooms WHERE room_id = $1", room_id);
  if (!row) return std::nullopt;
  return (*row)[0].as<std::string>();
}

void block_room(Transaction& tx, std::string_view room_id, std::string_view by, std::int64_t now) {
  tx.exec(
      "INSERT INTO blocked_rooms (room_id, blocked_by, created_ts) VALUES ($1, $2, $3) "
      "ON CONFLICT (room_id) DO NOTHING",
      room_id, by, now);
}

void unblock_room(Transaction& tx, std::string_view room_id) {
  tx.exec("DELETE FROM blocked_rooms WHERE room_id = $1", room_id);
}

namespace {

constexpr const char* kDeletionColumns =
    "delete_id, room_id, requester, status, params, result, error, created_ts";

RoomDeletion deletion_from(const pqxx::row& row) {
  return RoomDeletion{.delete_id = row[0].as<std::string>(),
                      .room_id = row[1].as<std::string>(),
                      .requester = row[2].as<std::string>(),
                      .status = row[3].as<std::string>(),
                      .params_json = row[4].as<std::string>(),
                      .result_json = nullable<std::string>(row[5]),
                      .error = nullable<std::string>(row[6]),
                      .created_ts = row[7].as<std::int64_t>()};
}

}  // namespace

void insert_room_deletion(Transaction& tx, const RoomDeletion& d) {
  tx.exec(
      "INSERT INTO room_deletions (delete_id, room_id, requester, status, params, result, "
      "error, created_ts, updated_ts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
      d.delete_id, d.room_id, d.requester, d.status, d.params_json, d.result_json, d.error,
      d.created_ts);
}

void update_room_deletion(Transaction& tx, std::string_view delete_id, std::string_view status,
                          const std::optional<std::string>& result_json,
                          const std::optional<std::string>& error, std::int64_t now) {
  tx.exec(
      "UPDATE room_deletions SET status = $2, result = coalesce($3, result), error = $4, "
      "updated_ts = $5 WHERE delete_id = $1",
      delete_id, status, result_json, error, now);
}

std::optional<RoomDeletion> find_room_deletion(Transaction& tx, std::string_view delete_id) {
  auto row = tx.exec_optional(
      std::string("SELECT ") + kDeletionColumns + " FROM room_deletions WHERE delete_id = $1",
      delete_id);
  if (!row) return std::nullopt;
  return deletion_from(*row);
}

std::vector<RoomDeletion> room_deletions_of(Transaction& tx, std::string_view room_id,
                                            std::int64_t since) {
  std::vector<RoomDeletion> out;
  for (const auto& row : tx.exec(std::string("SELECT ") + kDeletionColumns +
                                     " FROM room_deletions WHERE room_id = $1 AND created_ts >= $2 "
                                     "ORDER BY created_ts DESC LIMIT 100",
                                 room_id, since)) {
    out.push_back(deletion_from(row));
  }
  return out;
}

bool room_deletion_running(Transaction& tx, std::string_view room_id, std::int64_t alive_since) {
  return tx
      .exec_optional(
          "SELECT 1 FROM room_deletions WHERE room_id = $1 "
          "AND status IN ('shutting_down', 'purging') AND updated_ts >= $2 LIMIT 1",
          room_id, alive_since)
      .has_value();
}

}  // namespace eltrix::storage
