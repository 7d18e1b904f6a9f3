#include "storage/directory.h"

#include "errors/error.h"
#include "matrix/ids.h"
#include "storage/user_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>

namespace eltrix::storage {

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The string members of a state event's content, as SQL expressions over the
// event's parsed content `c` (events.sql_content: never a cast of events.pdu,
// which jsonb refuses when it holds \u0000; see rooms/event_sql_content.h). A value of another type
// counts as absent (as a client would treat it), rather than showing up as its JSON text.
std::string content_string(std::string_view type, std::string_view key) {
  return fmt::format(
      "max(CASE WHEN s.type = '{0}' AND jsonb_typeof(c->'{1}') = 'string' THEN c->>'{1}' END)",
      type, key);
}

}  // namespace

// ---- Aliases -------------------------------------------------------------------

std::optional<AliasMapping> get_alias(Transaction& tx, std::string_view alias) {
  auto row =
      tx.exec_optional("SELECT room_id, creator FROM room_aliases WHERE room_alias = $1", alias);
  if (!row) return std::nullopt;
  return AliasMapping{(*row)[0].as<std::string>(), (*row)[1].as<std::string>()};
}

bool insert_alias(Transaction& tx, std::string_view alias, std::string_view room_id,
                  std::string_view creator) {
  // ON CONFLICT rather than catching the unique violation: an error would
  // abort the caller's transaction, and createRoom wants to answer
  // M_ROOM_IN_USE rather than a storage error.
  return tx.exec0(
             "INSERT INTO room_aliases (room_alias, room_id, creator, created_ts) "
             "VALUES ($1, $2, $3, $4) ON CONFLICT (room_alias) DO NOTHING",
             alias, room_id, creator, now_ms()) == 1;
}

void create_alias(Transaction& tx, std::string_view alias, std::string_view room_id,
                  std::string_view creator) {
  if (!insert_alias(tx, alias, room_id, creator)) {
    throw errors::conflict("M_ROOM_IN_USE", fmt::format("Room alias {} already exists", alias));
  }
}

bool delete_alias(Transaction& tx, std::string_view alias) {
  return tx.exec0("DELETE FROM room_aliases WHERE room_alias = $1", alias) == 1;
}

std::vector<std::string> room_aliases(Transaction& tx, std::string_view room_id) {
  std::vector<std::string> out;
  for (const auto& row : tx.exec("SELECT room_alias FROM room_aliases WHERE room_id = $1 "
                                 "ORDER BY created_ts, room_alias LIMIT $2",
                                 room_id, static_cast<std::int64_t>(kMaxAliasesListed))) {
    out.push_back(row[0].as<std::string>());
  }
  return out;
}

namespace {

// The aliases an m.room.canonical_alias content names. With `strict`, a
// malformed field is the sender's error (M_INVALID_PARAM); without it (the
// stored event, which may predate our checks or come from elsewhere) the
// malformed parts are skipped.
std::set<std::string> named_aliases(const nlohmann::json& content, bool strict) {
  std::set<std::string> out;
  auto invalid = [](const std::string& what) { return errors::invalid("M_INVALID_PARAM", what); };
  if (!content.is_object()) {
    if (strict) throw invalid("m.room.canonical_alias content must be an object");
    return out;
  }
  if (auto it = content.find("alias"); it != content.end() && !it->is_null()) {
    if (!it->is_string()) {
      if (strict) throw invalid("'alias' must be a string");
    } else if (const auto& alias = it->get_ref<const std::string&>(); !alias.empty()) {
      // An empty alias means "no canonical alias" (event schema).
      if (matrix::is_valid_room_alias(alias)) {
        out.insert(alias);
      } else if (strict) {
        throw invalid(fmt::format("'{}' is not a valid room alias", alias));
      }
    }
  }
  if (auto it = content.find("alt_aliases"); it != content.end()) {
    if (!it->is_array()) {
      if (strict) throw invalid("'alt_aliases' must be an array of room aliases");
      return out;
    }
    for (const auto& item : *it) {
      if (item.is_string() && matrix::is_valid_room_alias(item.get_ref<const std::string&>())) {
        out.insert(item.get<std::string>());
      } else if (strict) {
        throw invalid(fmt::format("'alt_aliases' entry {} is not a valid room alias", item.dump()));
      }
    }
  }
  return out;
}

}  // namespace

void validate_canonical_alias(Transaction& tx, std::string_view room_id,
                              const nlohmann::json& content) {
  const std::set<std::string> wanted = named_aliases(content, true);
  if (wanted.empty()) return;
  std::set<std::string> current;
  if (auto old = current_state_content(tx, room_id, "m.room.canonical_alias", "")) {
    current = named_aliases(*old, false);
  }
  for (const auto& alias : wanted) {
    if (current.contains(alias)) continue;
    auto mapping = get_alias(tx, alias);
    if (!mapping || mapping->room_id != room_id) {
      throw errors::invalid("M_BAD_ALIAS",
                            fmt::format("The alias '{}' does not point to this room", alias));
    }
  }
}

// ---- Room state and membership ---------------------------------------------------

std::optional<DirectoryRoom> get_directory_room(Transaction& tx, std::string_view room_id) {
  auto row = tx.exec_optional("SELECT creator, is_public FROM rooms WHERE room_id = $1", room_id);
  if (!row) return std::nullopt;
  return DirectoryRoom{(*row)[0].as<std::string>(), (*row)[1].as<bool>()};
}

bool set_room_public(Transaction& tx, std::string_view room_id, bool is_public) {
  return tx.exec0("UPDATE rooms SET is_public = $2 WHERE room_id = $1", room_id, is_public) == 1;
}

std::optional<nlohmann::json> current_state_content(Transaction& tx, std::string_view room_id,
                                                    std::string_view type,
                                                    std::string_view state_key) {
  auto row = tx.exec_optional(
      "SELECT e.pdu FROM current_state s JOIN events e ON e.event_id = s.event_id "
      "WHERE s.room_id = $1 AND s.type = $2 AND s.state_key = $3",
      room_id, type, state_key);
  if (!row) return std::nullopt;
  auto pdu = nlohmann::json::parse((*row)[0].as<std::string>(), nullptr, false);
  if (!pdu.is_object()) return std::nullopt;
  auto it = pdu.find("content");
  if (it == pdu.end() || !it->is_object()) return nlohmann::json::object();
  return std::move(*it);
}

std::optional<std::string> membership_of(Transaction& tx, std::string_view room_id,
                                         std::string_view user_id) {
  auto row = tx.exec_optional(
      "SELECT membership FROM room_memberships WHERE room_id = $1 AND user_id = $2", room_id,
      user_id);
  if (!row) return std::nullopt;
  return (*row)[0].as<std::string>();
}

// ---- publicRooms -----------------------------------------------------------------

PublicRoomsPage list_public_rooms(Transaction& tx, const PublicRoomsQuery& query) {
  // One statement: the member counts of every published room (the listing
  // order needs all of them), the directory fields from the current state
  // (pivoted from at most eight state events per room), the filters, and the
  // page by keyset, so a page never skips or repeats a room whose neighbours
  // changed. row_number()/count() over the filtered set say whether rooms lie
  // before or after the page and how many match in all.
  //
  // Cost grows with the number of published rooms (not with all rooms: only
  // is_public rows are read, through rooms_public). Room IDs compare with
  // COLLATE "C" so the order and the keyset test agree whatever the
  // database's collation.
  static const std::string sql = fmt::format(
      R"(WITH published AS (
  SELECT r.room_id,
         (SELECT count(*) FROM room_memberships m
           WHERE m.room_id = r.room_id AND m.membership = 'join') AS joined
    FROM rooms r
   WHERE r.is_public
), described AS (
  SELECT p.room_id, p.joined, st.*
    FROM published p
    CROSS JOIN LATERAL (
      SELECT {} AS name, {} AS topic, {} AS canonical_alias, {} AS avatar_url,
             {} AS join_rule, {} AS history_visibility, {} AS guest_access, {} AS room_type
        FROM current_state s
        JOIN events e ON e.event_id = s.event_id
        CROSS JOIN LATERAL (SELECT e.sql_content AS c) parsed
       WHERE s.room_id = p.room_id AND s.state_key = ''
         AND s.type IN ('m.room.name', 'm.room.topic', 'm.room.canonical_alias',
                        'm.room.avatar', 'm.room.join_rules', 'm.room.history_visibility',
                        'm.room.guest_access', 'm.room.create')
    ) st
   WHERE p.joined > 0
), matching AS (
  SELECT d.* FROM described d
   WHERE (d.join_rule IN ('public', 'knock', 'knock_restricted')
          OR d.history_visibility = 'world_readable')
     AND ($1 = ''
          OR strpos(lower(d.name), lower($1)) > 0
          OR strpos(lower(d.topic), lower($1)) > 0
          OR strpos(lower(d.canonical_alias), lower($1)) > 0)
     AND ($2::text IS NULL
          OR d.room_type = ANY($2::text[])
          OR ($3 AND d.room_type IS NULL))
), ranked AS (
  SELECT m.*,
         row_number() OVER (ORDER BY m.joined DESC, m.room_id COLLATE "C") AS pos,
         count(*) OVER () AS total
    FROM matching m
)
SELECT room_id, joined, name, topic, canonical_alias, avatar_url, join_rule,
       history_visibility, guest_access, room_type, pos, total
  FROM ranked
 WHERE CASE $4
         WHEN 'f' THEN joined < $5 OR (joined = $5 AND room_id COLLATE "C" > $6)
         WHEN 'b' THEN joined > $5 OR (joined = $5 AND room_id COLLATE "C" < $6)
         ELSE true
       END
 ORDER BY CASE WHEN $4 = 'b' THEN -pos ELSE pos END
 LIMIT $7)",
      content_string("m.room.name", "name"), content_string("m.room.topic", "topic"),
      content_string("m.room.canonical_alias", "alias"), content_string("m.room.avatar", "url"),
      content_string("m.room.join_rules", "join_rule"),
      content_string("m.room.history_visibility", "history_visibility"),
      content_string("m.room.guest_access", "guest_access"),
      content_string("m.room.create", "type"));

  // A text[] literal rather than JSON cast to jsonb: a room type holding
  // \u0000 would fail the cast (a 500); in a text parameter the storage layer
  // refuses the NUL with 400 M_INVALID_PARAM.
  std::optional<std::string> room_types_array;
  bool include_untyped = false;
  if (query.room_types) {
    std::vector<std::string> list;
    for (const auto& type : *query.room_types) {
      if (type) {
        list.push_back(*type);
      } else {
        include_untyped = true;
      }
    }
    room_types_array = text_array(list);
  }
  const std::string direction = !query.since ? "" : query.since->forward ? "f" : "b";
  const std::int64_t since_joined = query.since ? query.since->joined_members : 0;
  const std::string since_room = query.since ? query.since->room_id : "";
  const std::size_t limit = std::max<std::size_t>(query.limit, 1);

  const pqxx::result result =
      tx.exec(sql, query.search_term, room_types_array, include_untyped, direction, since_joined,
              since_room, static_cast<std::int64_t>(limit + 1));

  PublicRoomsPage page;
  const bool backward = query.since && !query.since->forward;
  const bool more_in_direction = result.size() > limit;
  std::int64_t first_pos = 0, last_pos = 0, total = 0;
  for (std::size_t i = 0; i < result.size() && i < limit; ++i) {
    const auto& row = result[static_cast<pqxx::result::size_type>(i)];
    PublicRoom room;
    room.room_id = row[0].as<std::string>();
    room.joined_members = row[1].as<std::int64_t>();
    room.name = nullable<std::string>(row[2]);
    room.topic = nullable<std::string>(row[3]);
    room.canonical_alias = nullable<std::string>(row[4]);
    room.avatar_url = nullable<std::string>(row[5]);
    room.join_rule = nullable<std::string>(row[6]);
    room.world_readable = nullable<std::string>(row[7]) == "world_readable";
    room.guest_can_join = nullable<std::string>(row[8]) == "can_join";
    room.room_type = nullable<std::string>(row[9]);
    const auto pos = row[10].as<std::int64_t>();
    total = row[11].as<std::int64_t>();
    if (i == 0) first_pos = last_pos = pos;
    first_pos = std::min(first_pos, pos);
    last_pos = std::max(last_pos, pos);
    page.rooms.push_back(std::move(room));
  }
  if (backward) std::reverse(page.rooms.begin(), page.rooms.end());

  if (page.rooms.empty()) {
    // Nothing on this side of the token. Going back the other way from the
    // token still works, and only the token's side is known to be empty.
    if (query.since) {
      page.more_before = query.since->forward;
      page.more_after = !query.since->forward;
    } else {
      page.total = 0;
    }
    return page;
  }
  page.total = total;
  if (backward) {
    page.more_before = more_in_direction;
    page.more_after = last_pos < total;
  } else {
    page.more_after = more_in_direction;
    page.more_before = first_pos > 1;
  }
  return page;
}

// ---- User directory -------------------------------------------------------------

std::string escape_like(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    if (ch == '%' || ch == '_' || ch == '\\') out.push_back('\\');
    out.push_back(ch);
  }
  return out;
}

namespace {

// Most matching users checked for visibility per search (see search_users).
constexpr std::size_t kMaxCandidates = 1000;

// A to_tsquery('simple', ...) text that asks for display names with, for
// each word of `term`, a word starting with it: "ali smi" -> 'ali':* & 'smi':*.
// Words are the runs of ASCII letters and digits and of non-ASCII bytes (so
// UTF-8 letters stay inside words), which mirrors how the text search parser
// splits display names ("Jean-Luc" holds "jean" and "luc"). Only those
// characters survive, so the text never carries tsquery syntax of its own.
std::string display_name_query(std::string_view term) {
  std::vector<std::string> words;
  std::string word;
  for (char ch : term) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte >= 0x80 || std::isalnum(byte) != 0) {
      word.push_back(byte < 0x80 ? static_cast<char>(std::tolower(byte)) : ch);
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += " & ";
    out += "'" + w + "':*";
  }
  return out;
}

}  // namespace

UserSearchResult search_users(Transaction& tx, std::string_view requester, std::string_view term,
                              std::size_t limit) {
  // The match drives the query: users_directory_id (a text_pattern_ops index
  // on lower(user_id)) serves the localpart prefix and users_directory_name
  // (a GIN index on the display name's words) the display name. Only the
  // best kMaxCandidates matches are then checked for visibility, each on its
  // own (LATERAL ... LIMIT 1 along room_memberships' and current_state's
  // keys): written as plain EXISTS, the planner may instead build the set of
  // every member of every public room once per search, which costs far more
  // on a large server. When the candidates run out the answer is "limited",
  // which tells the client to refine the term. A lone '@' in front is the
  // user ID's sigil.
  std::string id_prefix(term);
  if (id_prefix.starts_with('@')) id_prefix.erase(0, 1);
  std::transform(id_prefix.begin(), id_prefix.end(), id_prefix.begin(), [](char ch) {
    const auto byte = static_cast<unsigned char>(ch);
    return byte < 0x80 ? static_cast<char>(std::tolower(byte)) : ch;
  });
  const std::string id_pattern = "@" + escape_like(id_prefix) + "%";
  const std::string name_query = display_name_query(term);
  const std::string exact_localpart = "@" + id_prefix;

  static constexpr std::string_view sql = R"(
WITH candidates AS MATERIALIZED (
  SELECT u.user_id, u.displayname, u.avatar_url,
         lower(split_part(u.user_id, ':', 1)) = $4 AS exact
    FROM users u
   WHERE (lower(u.user_id) LIKE $2
          OR ($3 <> '' AND to_tsvector('simple', coalesce(u.displayname, ''))
                           @@ to_tsquery('simple', $3)))
     AND NOT u.deactivated
   ORDER BY exact DESC, u.displayname IS NULL, u.user_id
   LIMIT $6
)
SELECT c.user_id, c.displayname, c.avatar_url, (SELECT count(*) FROM candidates)
  FROM candidates c
  LEFT JOIN LATERAL (
    SELECT true AS yes
      FROM room_memberships theirs
      JOIN room_memberships mine
        ON mine.user_id = $1 AND mine.room_id = theirs.room_id AND mine.membership = 'join'
     WHERE theirs.user_id = c.user_id AND theirs.membership = 'join'
     LIMIT 1
  ) shares ON true
  LEFT JOIN LATERAL (
    SELECT true AS yes
      FROM room_memberships theirs
      JOIN current_state s
        ON s.room_id = theirs.room_id AND s.state_key = ''
       AND s.type IN ('m.room.join_rules', 'm.room.history_visibility')
      JOIN events e ON e.event_id = s.event_id
     WHERE theirs.user_id = c.user_id AND theirs.membership = 'join'
       AND ((s.type = 'm.room.join_rules'
             AND e.sql_content->>'join_rule' = 'public')
         OR (s.type = 'm.room.history_visibility'
             AND e.sql_content->>'history_visibility' = 'world_readable'))
     LIMIT 1
  ) public_member ON true
 WHERE shares.yes OR public_member.yes
 ORDER BY c.exact DESC, c.displayname IS NULL, c.user_id
 LIMIT $5)";

  const pqxx::result result =
      tx.exec(sql, requester, id_pattern, name_query, exact_localpart,
              static_cast<std::int64_t>(limit + 1), static_cast<std::int64_t>(kMaxCandidates));
  UserSearchResult out;
  out.limited = result.size() > limit ||
                (!result.empty() &&
                 result[0][3].as<std::int64_t>() >= static_cast<std::int64_t>(kMaxCandidates));
  for (std::size_t i = 0; i < result.size() && i < limit; ++i) {
    const auto& row = result[static_cast<pqxx::result::size_type>(i)];
    out.users.push_back(DirectoryUser{row[0].as<std::string>(), nullable<std::string>(row[1]),
                                      nullable<std::string>(row[2])});
  }
  return out;
}

}  // namespace eltrix::storage
