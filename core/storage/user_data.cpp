#include "storage/user_data.h"

#include "storage/stream.h"

#include <fmt/format.h>

namespace eltrix::storage {

std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    // Every element quoted, so NULL, empty strings and separators inside IDs
    // keep their literal meaning.
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
// pqxx 6 binds integers of these widths; std::size_t limits go through this.
std::int64_t as_limit(std::size_t limit) {
  return static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX));
}
}  // namespace

// ---- Filters -------------------------------------------------------------------

std::int64_t store_filter(Transaction& tx, std::string_view user_id, std::string_view filter_json) {
  // ON CONFLICT DO NOTHING returns no row for a duplicate: the existing ID
  // is then read (the unique index makes it exist by then).
  auto inserted = tx.exec(
      "INSERT INTO user_filters (user_id, filter_json) VALUES ($1, $2) "
      "ON CONFLICT (user_id, md5(filter_json)) DO NOTHING RETURNING filter_id",
      user_id, filter_json);
  if (!inserted.empty()) return inserted[0][0].as<std::int64_t>();
  return tx
      .exec1("SELECT filter_id FROM user_filters WHERE user_id = $1 AND md5(filter_json) = md5($2)",
             user_id, filter_json)[0]
      .as<std::int64_t>();
}

std::optional<std::string> find_filter(Transaction& tx, std::string_view user_id,
                                       std::int64_t filter_id) {
  auto row =
      tx.exec_optional("SELECT filter_json FROM user_filters WHERE filter_id = $1 AND user_id = $2",
                       filter_id, user_id);
  if (!row) return std::nullopt;
  return (*row)[0].as<std::string>();
}

// ---- Account data --------------------------------------------------------------

void lock_account_data(Transaction& tx, std::string_view user_id, std::string_view room_id) {
  // A newline cannot occur in user or room IDs, so the key is unambiguous;
  // a hash collision only serialises two unrelated updates.
  tx.exec("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
          fmt::format("account_data\n{}\n{}", user_id, room_id));
}

std::int64_t put_account_data(Transaction& tx, std::string_view user_id, std::string_view room_id,
                              std::string_view type, std::string_view content) {
  std::int64_t position = advance_stream(tx);
  tx.exec0(
      "INSERT INTO account_data (user_id, room_id, type, content, stream_position) "
      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, room_id, type) DO UPDATE "
      "SET content = EXCLUDED.content, stream_position = EXCLUDED.stream_position",
      user_id, room_id, type, content, position);
  return position;
}

std::optional<std::string> get_account_data(Transaction& tx, std::string_view user_id,
                                            std::string_view room_id, std::string_view type) {
  auto row = tx.exec_optional(
      "SELECT content FROM account_data WHERE user_id = $1 AND room_id = $2 AND type = $3", user_id,
      room_id, type);
  if (!row) return std::nullopt;
  return (*row)[0].as<std::string>();
}

namespace {
std::vector<AccountData> read_account_data(const pqxx::result& result) {
  std::vector<AccountData> out;
  out.reserve(result.size());
  for (const auto& row : result) {
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                   row[3].as<std::int64_t>()});
  }
  return out;
}
}  // namespace

std::vector<AccountData> global_account_data_between(Transaction& tx, std::string_view user_id,
                                                     std::int64_t from, std::int64_t to,
                                                     std::size_t limit) {
  return read_account_data(
      tx.exec("SELECT room_id, type, content, stream_position FROM account_data "
              "WHERE user_id = $1 AND room_id = '' AND stream_position > $2 "
              "AND stream_position <= $3 ORDER BY stream_position LIMIT $4",
              user_id, from, to, as_limit(limit)));
}

std::vector<AccountData> room_account_data_between(Transaction& tx, std::string_view user_id,
                                                   const std::vector<std::string>& room_ids,
                                                   std::int64_t from, std::int64_t to,
                                                   std::size_t limit) {
  if (room_ids.empty()) return {};
  return read_account_data(
      tx.exec("SELECT room_id, type, content, stream_position FROM account_data "
              "WHERE user_id = $1 AND room_id = ANY($2::text[]) AND stream_position > $3 "
              "AND stream_position <= $4 ORDER BY stream_position LIMIT $5",
              user_id, text_array(room_ids), from, to, as_limit(limit)));
}

// ---- Rooms ---------------------------------------------------------------------

std::optional<std::int64_t> event_stream_in_room(Transaction& tx, std::string_view room_id,
                                                 std::string_view event_id) {
  auto row = tx.exec_optional(
      "SELECT stream_ordering FROM events WHERE event_id = $1 AND room_id = $2", event_id, room_id);
  if (!row) return std::nullopt;
  return (*row)[0].as<std::int64_t>();
}

// ---- Receipts ------------------------------------------------------------------

std::optional<std::int64_t> put_receipt(Transaction& tx, const Receipt& receipt,
                                        std::int64_t event_stream) {
  // Checked before claiming a stream position, so a stale receipt (the
  // common case of a client re-sending) neither moves the stream nor wakes
  // anyone.
  auto existing = tx.exec_optional(
      "SELECT event_stream FROM receipts WHERE room_id = $1 AND user_id = $2 "
      "AND receipt_type = $3 AND thread_id = $4",
      receipt.room_id, receipt.user_id, receipt.receipt_type, receipt.thread_id);
  if (existing && (*existing)[0].as<std::int64_t>() >= event_stream) return std::nullopt;
  std::int64_t position = advance_stream(tx);
  // The WHERE repeats the check for a concurrent writer that got in first.
  auto stored = tx.exec(
      "INSERT INTO receipts (room_id, user_id, receipt_type, thread_id, event_id, event_stream, "
      "ts, stream_position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
      "ON CONFLICT (room_id, user_id, receipt_type, thread_id) DO UPDATE "
      "SET event_id = EXCLUDED.event_id, event_stream = EXCLUDED.event_stream, ts = EXCLUDED.ts, "
      "stream_position = EXCLUDED.stream_position "
      "WHERE receipts.event_stream < EXCLUDED.event_stream RETURNING stream_position",
      receipt.room_id, receipt.user_id, receipt.receipt_type, receipt.thread_id, receipt.event_id,
      event_stream, receipt.ts, position);
  if (stored.empty()) return std::nullopt;
  return position;
}

std::vector<Receipt> receipts_between(Transaction& tx, const std::vector<std::string>& room_ids,
                                      std::string_view viewer, std::int64_t from, std::int64_t to,
                                      std::size_t per_room_limit) {
  if (room_ids.empty()) return {};
  auto result = tx.exec(
      "SELECT room_id, user_id, receipt_type, thread_id, event_id, ts, stream_position FROM ("
      "  SELECT r.*, row_number() OVER (PARTITION BY room_id ORDER BY stream_position DESC) AS n"
      "  FROM receipts r WHERE room_id = ANY($1::text[]) AND stream_position > $2"
      "  AND stream_position <= $3 AND (receipt_type <> 'm.read.private' OR user_id = $4)"
      ") ranked WHERE n <= $5 ORDER BY room_id, stream_position DESC",
      text_array(room_ids), from, to, viewer, as_limit(per_room_limit));
  std::vector<Receipt> out;
  out.reserve(result.size());
  for (const auto& row : result) {
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                   row[3].as<std::string>(), row[4].as<std::string>(), row[5].as<std::int64_t>(),
                   row[6].as<std::int64_t>()});
  }
  return out;
}

std::int64_t read_up_to(Transaction& tx, std::string_view room_id, std::string_view user_id) {
  // Threaded receipts other than "main" only cover their thread, which the
  // room-wide count does not separate, so they are left out.
  return tx
      .exec1(
          "SELECT coalesce(max(event_stream), 0) FROM receipts WHERE room_id = $1 "
          "AND user_id = $2 AND receipt_type IN ('m.read', 'm.read.private') "
          "AND thread_id IN ('', 'main')",
          room_id, user_id)[0]
      .as<std::int64_t>();
}

// ---- Presence ------------------------------------------------------------------

namespace {
constexpr std::string_view kPresenceColumns =
    "user_id, state, status_msg, last_active_ts, last_sync_ts, stream_position, node_id";

Presence read_presence(const pqxx::row& row) {
  return {row[0].as<std::string>(),       row[1].as<std::string>(),
          nullable<std::string>(row[2]),  row[3].as<std::int64_t>(),
          nullable<std::int64_t>(row[4]), row[5].as<std::int64_t>(),
          nullable<std::string>(row[6])};
}
}  // namespace

std::optional<Presence> get_presence(Transaction& tx, std::string_view user_id) {
  auto row = tx.exec_optional(
      fmt::format("SELECT {} FROM presence WHERE user_id = $1", kPresenceColumns), user_id);
  if (!row) return std::nullopt;
  return read_presence(*row);
}

std::int64_t put_presence(Transaction& tx, std::string_view user_id, std::string_view state,
                          const std::optional<std::string>& status_msg, std::int64_t last_active_ts,
                          std::optional<std::int64_t> last_sync_ts) {
  // The row lock orders concurrent writers of one user's presence; the
  // last to commit wins, whatever its stream position (D31: a reader's bound
  // stays below every position still running, so the row is delivered).
  tx.exec("SELECT 1 FROM presence WHERE user_id = $1 FOR UPDATE", user_id);
  std::int64_t position = advance_stream(tx);
  tx.exec0(
      "INSERT INTO presence (user_id, state, status_msg, last_active_ts, last_sync_ts, "
      "stream_position) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO UPDATE "
      "SET state = EXCLUDED.state, status_msg = EXCLUDED.status_msg, "
      "last_active_ts = EXCLUDED.last_active_ts, "
      "last_sync_ts = coalesce(EXCLUDED.last_sync_ts, presence.last_sync_ts), "
      "stream_position = EXCLUDED.stream_position",
      user_id, state, status_msg, last_active_ts, last_sync_ts, position);
  return position;
}

void touch_presence(Transaction& tx, std::string_view user_id, std::int64_t last_active_ts,
                    std::optional<std::int64_t> last_sync_ts) {
  tx.exec0(
      "UPDATE presence SET last_active_ts = greatest(last_active_ts, $2), "
      "last_sync_ts = coalesce($3, last_sync_ts) WHERE user_id = $1",
      user_id, last_active_ts, last_sync_ts);
}

std::optional<std::int64_t> restamp_presence(Transaction& tx, std::string_view user_id) {
  if (!tx.exec_optional("SELECT 1 FROM presence WHERE user_id = $1 FOR UPDATE", user_id)) {
    return std::nullopt;
  }
  std::int64_t position = advance_stream(tx);
  tx.exec0("UPDATE presence SET stream_position = $2 WHERE user_id = $1", user_id, position);
  return position;
}

std::vector<Presence> presence_between(Transaction& tx, std::string_view user_id,
                                       const std::vector<std::string>& room_ids, std::int64_t from,
                                       std::int64_t to, std::size_t limit) {
  // The position window is the selective part for an incremental sync; the
  // membership test then runs on the few changed rows only.
  auto result = tx.exec(
      fmt::format(
          "SELECT {} FROM presence p WHERE p.stream_position > $2 AND p.stream_position <= $3 "
          "AND ($2 > 0 OR p.state <> 'offline') "
          "AND (p.user_id = $1 OR EXISTS (SELECT 1 FROM room_memberships m "
          "  WHERE m.user_id = p.user_id AND m.room_id = ANY($4::text[]) "
          "  AND m.membership = 'join')) "
          "ORDER BY p.stream_position DESC LIMIT $5",
          kPresenceColumns),
      user_id, from, to, text_array(room_ids), as_limit(limit));
  std::vector<Presence> out;
  out.reserve(result.size());
  for (const auto& row : result) out.push_back(read_presence(row));
  return out;
}

std::vector<std::string> expire_presence(Transaction& tx, std::int64_t sync_before_ts,
                                         std::size_t limit) {
  // SKIP LOCKED: nodes sweeping at the same moment take different users
  // instead of queueing behind each other.
  auto stale = tx.exec(
      "SELECT user_id FROM presence WHERE state <> 'offline' AND last_sync_ts < $1 "
      "ORDER BY last_sync_ts LIMIT $2 FOR UPDATE SKIP LOCKED",
      sync_before_ts, as_limit(limit));
  std::vector<std::string> users;
  users.reserve(stale.size());
  for (const auto& row : stale) users.push_back(row[0].as<std::string>());
  if (users.empty()) return users;
  std::int64_t position = advance_stream(tx);
  tx.exec0(
      "UPDATE presence SET state = 'offline', stream_position = $2 "
      "WHERE user_id = ANY($1::text[])",
      text_array(users), position);
  return users;
}

// ---- Profiles ------------------------------------------------------------------

std::optional<Profile> get_profile(Transaction& tx, std::string_view user_id) {
  auto row =
      tx.exec_optional("SELECT displayname, avatar_url FROM users WHERE user_id = $1", user_id);
  if (!row) return std::nullopt;
  return Profile{nullable<std::string>((*row)[0]), nullable<std::string>((*row)[1])};
}

bool set_displayname(Transaction& tx, std::string_view user_id,
                     const std::optional<std::string>& displayname) {
  return tx.exec0("UPDATE users SET displayname = $2 WHERE user_id = $1", user_id, displayname) ==
         1;
}

bool set_avatar_url(Transaction& tx, std::string_view user_id,
                    const std::optional<std::string>& avatar_url) {
  return tx.exec0("UPDATE users SET avatar_url = $2 WHERE user_id = $1", user_id, avatar_url) == 1;
}

std::map<std::string, Profile> profiles_of(Transaction& tx,
                                           const std::vector<std::string>& user_ids) {
  std::map<std::string, Profile> out;
  if (user_ids.empty()) return out;
  auto result =
      tx.exec("SELECT user_id, displayname, avatar_url FROM users WHERE user_id = ANY($1::text[])",
              text_array(user_ids));
  for (const auto& row : result) {
    out.emplace(row[0].as<std::string>(),
                Profile{nullable<std::string>(row[1]), nullable<std::string>(row[2])});
  }
  return out;
}

// ---- Unread counts -------------------------------------------------------------

std::map<std::string, UnreadCounts> unread_counts(Transaction& tx, std::string_view user_id,
                                                  const std::vector<std::string>& room_ids,
                                                  std::int64_t to, std::string_view mention_regex,
                                                  std::size_t cap) {
  std::map<std::string, UnreadCounts> out;
  if (room_ids.empty()) return out;
  // One statement for all rooms. Per room, the newest `cap` events after the
  // receipt are read through events_room_stream; "own" is the user's latest
  // event among them (sending counts as reading up to there, as the spec's
  // "Marking notifications as read" says). Highlights read events.sql_content,
  // never a jsonb cast of the PDU (rooms/event_sql_content.h).
  auto result = tx.exec(
      "SELECT r.room_id, "
      "  count(x.stream_ordering) FILTER (WHERE x.notify AND x.stream_ordering > x.own), "
      "  count(x.stream_ordering) FILTER (WHERE x.notify AND x.stream_ordering > x.own AND ("
      "    ($4 <> '' AND coalesce((x.sql_content ->> 'body') ~* $4, false)) OR "
      "    coalesce((x.sql_content -> 'm.mentions' -> 'user_ids') ? $2, false))) "
      "FROM unnest($1::text[]) AS r(room_id) "
      "LEFT JOIN LATERAL ("
      "  SELECT e.stream_ordering, e.sql_content, "
      "    coalesce(max(e.stream_ordering) FILTER (WHERE e.sender = $2) OVER (), 0) AS own, "
      "    (e.sender <> $2 AND e.state_key IS NULL AND e.redacted_by IS NULL "
      "     AND e.type IN ('m.room.message', 'm.room.encrypted', 'm.sticker')) AS notify "
      "  FROM (SELECT * FROM events e0 WHERE e0.room_id = r.room_id AND e0.stream_ordering > ("
      "          SELECT coalesce(max(event_stream), 0) FROM receipts rc WHERE rc.room_id = "
      "r.room_id"
      "          AND rc.user_id = $2 AND rc.receipt_type IN ('m.read', 'm.read.private')"
      "          AND rc.thread_id IN ('', 'main')) "
      "        AND e0.stream_ordering <= $3 ORDER BY e0.stream_ordering DESC LIMIT $5) e"
      ") x ON true "
      "GROUP BY r.room_id",
      text_array(room_ids), user_id, to, mention_regex, as_limit(cap));
  for (const auto& row : result) {
    out[row[0].as<std::string>()] = {row[1].as<std::int64_t>(), row[2].as<std::int64_t>()};
  }
  return out;
}

}  // namespace eltrix::storage
