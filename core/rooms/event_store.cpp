#include "rooms/event_store.h"

#include "rooms/state_groups.h"

#include <algorithm>
#include <chrono>
#include <limits>

namespace eltrix::rooms {

namespace {
const std::string kEmpty;

/// obj[key] when obj is an object holding a string there; else "". Stored
/// events may come from other servers with any JSON in them: reading one
/// never throws.
std::string string_field(const nlohmann::json& obj, std::string_view key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// A timestamp field: a JSON integer in [0, 2^53] (canonical JSON's range),
/// else 0, so arithmetic on it cannot overflow.
std::int64_t timestamp_field(const nlohmann::json& obj, std::string_view key) {
  constexpr std::int64_t kMax = (std::int64_t{1} << 53);
  if (!obj.is_object()) return 0;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer()) return 0;
  if (it->is_number_unsigned()) {
    return static_cast<std::int64_t>(std::min<std::uint64_t>(it->get<std::uint64_t>(), kMax));
  }
  return std::clamp<std::int64_t>(it->get<std::int64_t>(), 0, kMax);
}

nlohmann::json content_field(const nlohmann::json& pdu) {
  auto it = pdu.find("content");
  return it != pdu.end() && it->is_object() ? *it : nlohmann::json::object();
}

}  // namespace

const std::string& StoredEvent::type() const {
  auto it = pdu.find("type");
  return it != pdu.end() && it->is_string() ? it->get_ref<const std::string&>() : kEmpty;
}

const std::string& StoredEvent::sender() const {
  auto it = pdu.find("sender");
  return it != pdu.end() && it->is_string() ? it->get_ref<const std::string&>() : kEmpty;
}

std::string StoredEvent::state_key() const {
  return string_field(pdu, "state_key");
}

std::string StoredEvent::membership() const {
  if (type() != "m.room.member") return {};
  auto content = pdu.find("content");
  return content != pdu.end() ? string_field(*content, "membership") : std::string();
}

StoredEvent read_event(const pqxx::row& row) {
  StoredEvent event;
  event.stream = row[0].as<std::int64_t>();
  event.event_id = row[1].as<std::string>();
  event.pdu = nlohmann::json::parse(row[2].as<std::string>());
  event.txn_device_id = storage::nullable<std::string>(row[3]);
  event.txn_id = storage::nullable<std::string>(row[4]);
  event.redacted_by = storage::nullable<std::string>(row[5]);
  if (!row[6].is_null()) event.redaction = nlohmann::json::parse(row[6].as<std::string>());
  event.depth = row[7].as<std::int64_t>();
  event.state_before = storage::nullable<std::int64_t>(row[8]);
  return event;
}

std::vector<StoredEvent> read_events(const pqxx::result& result) {
  std::vector<StoredEvent> out;
  out.reserve(result.size());
  for (const auto& row : result) out.push_back(read_event(row));
  return out;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

nlohmann::json sync_event(const StoredEvent& event, std::string_view requester,
                          std::string_view device_id, std::int64_t now) {
  const auto& pdu = event.pdu;
  nlohmann::json out = {{"type", event.type()},
                        {"sender", event.sender()},
                        {"event_id", event.event_id},
                        {"content", content_field(pdu)},
                        {"origin_server_ts", timestamp_field(pdu, "origin_server_ts")}};
  if (auto it = pdu.find("state_key"); it != pdu.end()) out["state_key"] = *it;
  // v1-v10 keep "redacts" at the top level; clients still read it there.
  if (auto it = pdu.find("redacts"); it != pdu.end()) out["redacts"] = *it;
  nlohmann::json unsigned_data = {
      {"age", std::max<std::int64_t>(0, now - out["origin_server_ts"].get<std::int64_t>())}};
  if (event.txn_id && event.sender() == requester && event.txn_device_id &&
      *event.txn_device_id == device_id) {
    unsigned_data["transaction_id"] = *event.txn_id;
  }
  if (event.redaction) {
    StoredEvent because;
    because.pdu = *event.redaction;
    because.event_id = event.redacted_by.value_or("");
    unsigned_data["redacted_because"] = sync_event(because, "", "", now);
    unsigned_data["redacted_because"]["room_id"] = string_field(pdu, "room_id");
  }
  out["unsigned"] = std::move(unsigned_data);
  return out;
}

nlohmann::json client_event(const StoredEvent& event, std::string_view requester,
                            std::string_view device_id, std::int64_t now) {
  nlohmann::json out = sync_event(event, requester, device_id, now);
  out["room_id"] = string_field(event.pdu, "room_id");
  return out;
}

nlohmann::json stripped_event(const StoredEvent& event) {
  return {{"type", event.type()},
          {"state_key", event.state_key()},
          {"sender", event.sender()},
          {"content", content_field(event.pdu)}};
}

std::string pg_text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

namespace {
// The lock is a transaction-scoped advisory lock on the room ID's hash, not
// the rooms row: PostgreSQL grants a row's FOR KEY SHARE to a newcomer while
// a FOR UPDATE waits (row locks queue only behind holders), so a busy room's
// messages could keep a state event waiting forever; the lock manager behind
// advisory locks queues a newcomer behind a waiter it conflicts with. A hash
// collision between two rooms only serialises them.
constexpr const char* kLoadRoomSql[] = {
    "SELECT room_version, creator FROM rooms WHERE room_id = $1",
    "SELECT r.room_version, r.creator FROM "
    "(SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))) l "
    "LEFT JOIN rooms r ON r.room_id = $1",
    "SELECT r.room_version, r.creator FROM "
    "(SELECT pg_advisory_xact_lock(hashtextextended($1, 0))) l "
    "LEFT JOIN rooms r ON r.room_id = $1"};
}  // namespace

std::optional<RoomInfo> load_room(storage::Transaction& tx, std::string_view room_id,
                                  RoomLock lock) {
  auto row = tx.exec_optional(kLoadRoomSql[static_cast<int>(lock)], room_id);
  if (!row || (*row)[0].is_null()) return std::nullopt;
  return RoomInfo{std::string(room_id), (*row)[0].as<std::string>(), (*row)[1].as<std::string>()};
}

storage::FirstStatement lock_room_statement(std::string_view room_id, RoomLock lock,
                                            std::string read,
                                            std::vector<std::optional<std::string>> more_params) {
  // The lock in a statement of its own (the prelude), so that the read's
  // snapshot is taken once it is granted; the read is then a statement
  // PostgreSQL can keep prepared (storage::FirstStatement).
  static constexpr const char* kLockSql[] = {
      "", "SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))",
      "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"};
  storage::FirstStatement first;
  first.sql = read.empty() ? kLoadRoomSql[0] : std::move(read);
  first.params.emplace_back(std::string(room_id));
  for (auto& param : more_params) first.params.push_back(std::move(param));
  first.prelude = kLockSql[static_cast<int>(lock)];
  return first;
}

std::optional<RoomInfo> locked_room(const storage::Transaction& tx, std::string_view room_id) {
  // Column 0 is the transaction ID (Database::write(FirstStatement)); NULLs
  // after it: no such room.
  const pqxx::result& rows = tx.first_result();
  if (rows.empty() || rows[0][1].is_null()) return std::nullopt;
  return RoomInfo{std::string(room_id), rows[0][1].as<std::string>(), rows[0][2].as<std::string>()};
}

std::optional<StoredEvent> load_event(storage::Transaction& tx, std::string_view event_id) {
  static const std::string sql = select_events("WHERE e.event_id = $1");
  auto row = tx.exec_optional(sql, event_id);
  if (!row) return std::nullopt;
  return read_event(*row);
}

std::string select_events(std::string_view tail) {
  std::string sql = "SELECT ";
  sql += kEventColumns;
  sql += " FROM ";
  sql += kEventJoin;
  sql += ' ';
  sql += tail;
  return sql;
}

std::optional<StoredEvent> current_state_event(storage::Transaction& tx, std::string_view room_id,
                                               std::string_view type, std::string_view state_key) {
  static const std::string sql = select_events(
      "JOIN current_state cs ON cs.event_id = e.event_id "
      "WHERE cs.room_id = $1 AND cs.type = $2 AND cs.state_key = $3");
  auto row = tx.exec_optional(sql, room_id, type, state_key);
  if (!row) return std::nullopt;
  return read_event(*row);
}

std::vector<StoredEvent> current_state(storage::Transaction& tx, std::string_view room_id) {
  static const std::string sql = select_events(
      "JOIN current_state cs ON cs.event_id = e.event_id WHERE cs.room_id = $1 "
      "ORDER BY e.stream_ordering");
  return read_events(tx.exec(sql, room_id));
}

std::vector<StoredEvent> state_at(storage::Transaction& tx, std::string_view room_id,
                                  std::int64_t position) {
  return state_events_of(tx, state_group_at(tx, room_id, position));
}

std::vector<StoredEvent> state_before_event(storage::Transaction& tx, std::string_view event_id) {
  auto state = event_state(tx, event_id);
  return state ? state_events_of(tx, state->before) : std::vector<StoredEvent>{};
}

std::vector<StoredEvent> state_after_event(storage::Transaction& tx, std::string_view event_id) {
  auto state = event_state(tx, event_id);
  return state ? state_events_of(tx, state->after) : std::vector<StoredEvent>{};
}

std::optional<Membership> membership_of(storage::Transaction& tx, std::string_view room_id,
                                        std::string_view user_id) {
  auto row = tx.exec_optional(
      "SELECT membership, stream_ordering, event_id, forgotten FROM room_memberships "
      "WHERE room_id = $1 AND user_id = $2",
      room_id, user_id);
  if (!row) return std::nullopt;
  return Membership{(*row)[0].as<std::string>(), (*row)[1].as<std::int64_t>(),
                    (*row)[2].as<std::string>(), (*row)[3].as<bool>()};
}

std::optional<StoredEvent> state_at_key(storage::Transaction& tx, std::string_view room_id,
                                        std::string_view type, std::int64_t position) {
  return state_event_of(tx, state_group_at(tx, room_id, position), type, "");
}

}  // namespace eltrix::rooms
