#include "client/relations.h"

#include "client/json_body.h"
#include "client/room_access.h"
#include "matrix/ids.h"
#include "rooms/aggregations.h"
#include "rooms/topological.h"
#include "rooms/visibility.h"
#include "storage/stream.h"
#include "sync/token.h"

#include <algorithm>
#include <charconv>

namespace eltrix::client {

namespace {

/// Synapse's defaults: clients nearly always send their own limit.
constexpr std::size_t kDefaultLimit = 5;
constexpr std::size_t kMaxLimit = 100;
/// How deep `recurse` follows relations of relations (Synapse's fixed depth;
/// the spec leaves it to the server and the response says what was used).
constexpr int kRecursionDepth = 3;

std::size_t limit_param(const http::Request& req, std::size_t fallback) {
  auto text = req.query("limit");
  if (!text) return fallback;
  std::size_t limit = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
  if (ec != std::errc() || ptr != text->data() + text->size()) {
    throw invalid_param("'limit' must be a non-negative integer");
  }
  return std::clamp<std::size_t>(limit, 1, kMaxLimit);
}

/// A /relations token: topological ("t<depth>_<stream>", what /relations
/// and /messages hand out) or a sync's stream token, resolved in the room.
std::optional<rooms::TopologicalKey> relation_token(storage::Transaction& tx,
                                                    const http::Request& req, const char* name,
                                                    const std::string& room_id) {
  auto text = req.query(name);
  if (!text || text->empty()) return std::nullopt;
  if (auto key = rooms::parse_topological_token(*text)) return key;
  std::int64_t position = 0;
  if (!sync::parse_stream_token(*text, position)) {
    throw invalid_param(std::string("Invalid '") + name + "' token");
  }
  return rooms::topological_at_stream(tx, room_id, position);
}

/// The parent event, when the user may see it; 404 otherwise (spec: the
/// parent must be visible, and an invisible one must not leak).
rooms::StoredEvent visible_parent(storage::Transaction& tx, const std::string& room_id,
                                  const std::string& event_id, rooms::Visibility& visibility) {
  auto event = rooms::load_event(tx, event_id);
  if (!event || event->pdu.value("room_id", "") != room_id || !visibility.can_see(*event)) {
    tx.need_primary();  // a replica may not have replayed it yet
    throw not_found("Event not found.");
  }
  return *event;
}

// The children of $1 in room $2, direct or (recursing) up to $3 levels
// down, optionally of one rel_type ($4) and event type ($5), beyond the
// token's gap ($6, $7) in the direction asked, in topological order.
// Direct children of one rel_type (what clients ask most: a thread's
// replies) are one ordered range of event_relations_parent, read no further
// than the page; other requests gather the children first, each level one
// index range per parent.
/// Descendants a recursive request considers: the first found, level by
/// level. A thread or reaction storm deeper than this is cut, not read whole.
constexpr std::size_t kMaxTreeEvents = 10000;

std::string children_sql(bool backwards, bool recursive) {
  // Tokens name the gap just after a key (rooms/topological.h), as for
  // /messages, whose tokens a client may pass here: backwards reads keys at
  // or below it, forwards keys above it.
  const char* cmp = backwards ? "<=" : ">";
  const char* order = backwards ? "DESC" : "ASC";
  if (!recursive) {
    return "SELECT " + std::string(rooms::kEventColumns) +
           " FROM event_relations x JOIN events e ON e.event_id = x.event_id "
           "LEFT JOIN events r ON r.event_id = e.redacted_by "
           "WHERE x.relates_to_id = $1 AND x.room_id = $2 AND $3::int >= 1 "
           "  AND ($4::text IS NULL OR x.rel_type = $4) AND ($5::text IS NULL OR x.type = $5) "
           "  AND (x.depth, x.stream_ordering) " +
           cmp + " ($6::bigint, $7::bigint) ORDER BY x.depth " + order + ", x.stream_ordering " +
           order + " LIMIT $8";
  }
  // The tree carries each child's rel_type and type, so the filters need
  // no second look-up of event_relations.
  return "WITH RECURSIVE tree (event_id, level, rel_type, type) AS ("
         "  SELECT event_id, 1, rel_type, type FROM event_relations "
         "  WHERE relates_to_id = $1 AND room_id = $2 "
         "  UNION "
         "  SELECT x.event_id, t.level + 1, x.rel_type, x.type FROM tree t JOIN event_relations x "
         "    ON x.relates_to_id = t.event_id AND x.room_id = $2 WHERE t.level < $3) "
         "SELECT " +
         std::string(rooms::kEventColumns) +
         // The tree is built lazily as rows are pulled: this LIMIT stops it
         // at kMaxTreeEvents however many descendants there are.
         " FROM (SELECT * FROM tree LIMIT " + std::to_string(kMaxTreeEvents) +
         ") t JOIN events e ON e.event_id = t.event_id "
         "LEFT JOIN events r ON r.event_id = e.redacted_by "
         "WHERE ($4::text IS NULL OR t.rel_type = $4) AND ($5::text IS NULL OR t.type = $5) "
         "  AND (e.depth, e.stream_ordering) " +
         cmp + " ($6::bigint, $7::bigint) " + "ORDER BY e.depth " + order + ", e.stream_ordering " +
         order + " LIMIT $8";
}

http::Response relations(Context& ctx, http::Request& req, bool with_rel_type,
                         bool with_event_type) {
  const Requester& who = req.requester();
  const std::string room_id = room_id_param(req);
  const std::string event_id(req.path_param("eventId"));
  if (!matrix::is_valid_event_id(event_id)) throw invalid_param("Invalid event ID");
  std::optional<std::string> rel_type;
  std::optional<std::string> event_type;
  if (with_rel_type) rel_type = std::string(req.path_param("relType"));
  if (with_event_type) event_type = std::string(req.path_param("eventType"));
  const std::string dir = req.query("dir").value_or("b");
  if (dir != "b" && dir != "f") throw invalid_param("'dir' must be 'b' or 'f'");
  const bool backwards = dir == "b";
  const auto recurse_text = req.query("recurse");
  if (recurse_text && *recurse_text != "true" && *recurse_text != "false") {
    throw invalid_param("'recurse' must be true or false");
  }
  const bool recurse = recurse_text && *recurse_text == "true";
  const std::size_t limit = limit_param(req, kDefaultLimit);
  const auto now = rooms::now_ms();

  auto out = ctx.db.read([&](storage::Transaction& tx) {
    rooms::Visibility visibility(tx, room_id, who.user_id);
    visible_parent(tx, room_id, event_id, visibility);
    const auto from = relation_token(tx, req, "from", room_id);
    const auto to = relation_token(tx, req, "to", room_id);
    constexpr rooms::TopologicalKey kEnd{INT64_MAX, INT64_MAX};
    const rooms::TopologicalKey start = from.value_or(backwards ? kEnd : rooms::TopologicalKey{});
    // One row more than asked: whether there is a next page.
    auto rows = rooms::read_events(tx.exec(children_sql(backwards, recurse), event_id, room_id,
                                           recurse ? kRecursionDepth : 1, rel_type, event_type,
                                           start.depth, start.stream, limit + 1));
    bool more = rows.size() > limit;
    if (more) rows.resize(limit);
    // `to` bounds the page at the gap it names, as for /messages: the
    // results end there.
    if (to) {
      auto past = [&](const rooms::StoredEvent& e) {
        rooms::TopologicalKey key{e.depth, e.stream};
        return backwards ? key <= *to : key > *to;
      };
      auto it = std::find_if(rows.begin(), rows.end(), past);
      if (it != rows.end()) {
        rows.erase(it, rows.end());
        more = false;
      }
    }
    std::optional<rooms::TopologicalKey> next;
    // The gap just before the last event going backwards, just after it
    // going forwards.
    if (more) {
      next = backwards ? rooms::TopologicalKey{rows.back().depth, rows.back().stream - 1}
                       : rooms::TopologicalKey{rows.back().depth, rows.back().stream};
    }
    visibility.prepare(rows);
    std::vector<rooms::StoredEvent> shown;
    for (auto& e : rows) {
      if (visibility.can_see(e)) shown.push_back(std::move(e));
    }
    nlohmann::json chunk = nlohmann::json::array();
    std::vector<const rooms::StoredEvent*> pointers;
    for (const auto& e : shown) {
      chunk.push_back(rooms::client_event(e, who.user_id, who.device_id, now));
      pointers.push_back(&e);
    }
    rooms::bundle_all(chunk, rooms::load_aggregations(tx, room_id, pointers, who.user_id,
                                                      who.device_id, now, visibility));
    nlohmann::json result{{"chunk", chunk}};
    if (next) result["next_batch"] = rooms::format_topological_token(*next);
    if (auto given = req.query("from"); given && !given->empty()) result["prev_batch"] = *given;
    // spec: present exactly when the client sent `recurse`.
    if (recurse_text) result["recursion_depth"] = recurse ? kRecursionDepth : 1;
    return result;
  });
  return http::Response::json(200, out);
}

http::Response threads(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string room_id = room_id_param(req);
  const std::string include = req.query("include").value_or("all");
  if (include != "all" && include != "participated") {
    throw invalid_param("'include' must be 'all' or 'participated'");
  }
  const std::size_t limit = limit_param(req, 50);
  std::int64_t from = INT64_MAX;
  if (auto text = req.query("from"); text && !text->empty()) {
    auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), from);
    if (ec != std::errc() || ptr != text->data() + text->size()) {
      throw invalid_param("Invalid 'from' token");
    }
  }
  const auto now = rooms::now_ms();
  auto out = ctx.db.read([&](storage::Transaction& tx) {
    rooms::Visibility visibility(tx, room_id, who.user_id);
    if (!visibility.may_read_history()) {
      tx.need_primary();
      throw forbidden("You are not a member of room " + room_id);
    }
    // Newest activity first, one range of room_threads_latest; a thread the
    // user took part in is one they started or replied to.
    auto result = tx.exec(
        "SELECT " + std::string(rooms::kEventColumns) +
            ", t.latest_stream FROM room_threads t JOIN events e ON e.event_id = t.thread_id "
            "LEFT JOIN events r ON r.event_id = e.redacted_by "
            "WHERE t.room_id = $1 AND e.room_id = $1 AND t.latest_stream < $2 "
            "  AND (NOT $3::boolean OR e.sender = $4 OR EXISTS (SELECT 1 FROM event_relations x "
            "    WHERE x.relates_to_id = t.thread_id AND x.rel_type = 'm.thread' "
            "      AND x.sender = $4)) "
            "ORDER BY t.latest_stream DESC LIMIT $5",
        room_id, from, include == "participated", who.user_id, limit + 1);
    std::vector<rooms::StoredEvent> roots;
    std::vector<std::int64_t> latest;
    for (const auto& row : result) {
      roots.push_back(rooms::read_event(row));
      latest.push_back(row[9].as<std::int64_t>());
    }
    const bool more = roots.size() > limit;
    if (more) {
      roots.resize(limit);
      latest.resize(limit);
    }
    visibility.prepare(roots);
    std::vector<const rooms::StoredEvent*> shown;
    for (const auto& root : roots) {
      if (visibility.can_see(root)) shown.push_back(&root);
    }
    nlohmann::json chunk = nlohmann::json::array();
    for (const auto* root : shown) {
      chunk.push_back(rooms::client_event(*root, who.user_id, who.device_id, now));
    }
    rooms::bundle_all(chunk, rooms::load_aggregations(tx, room_id, shown, who.user_id,
                                                      who.device_id, now, visibility));
    nlohmann::json body{{"chunk", chunk}};
    if (more) body["next_batch"] = std::to_string(latest.back());
    return body;
  });
  return http::Response::json(200, out);
}

}  // namespace

void add_relations_routes(http::Router& router, Context& ctx) {
  const std::string base = "/_matrix/client/v1/rooms/{roomId}/relations/{eventId}";
  router.add("GET", base, [&ctx](http::Request& req) { return relations(ctx, req, false, false); });
  router.add("GET", base + "/{relType}",
             [&ctx](http::Request& req) { return relations(ctx, req, true, false); });
  router.add("GET", base + "/{relType}/{eventType}",
             [&ctx](http::Request& req) { return relations(ctx, req, true, true); });
  router.add("GET", "/_matrix/client/v1/rooms/{roomId}/threads",
             [&ctx](http::Request& req) { return threads(ctx, req); });
}

}  // namespace eltrix::client
