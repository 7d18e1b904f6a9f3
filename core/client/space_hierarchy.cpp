#include "client/space_hierarchy.h"

#include "client/json_body.h"
#include "client/room_access.h"
#include "rooms/event_store.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <tuple>

namespace eltrix::client {

namespace {

constexpr std::size_t kDefaultLimit = 20;
constexpr std::size_t kMaxLimit = 50;
/// Rooms one request walks at most (pages included): a space of spaces
/// must not make one request read the whole server.
constexpr std::size_t kMaxRoomsWalked = 1000;
/// Children listed per room (children_state and the walk): a space with
/// more m.space.child events than this shows the first ones met, so one
/// room cannot make a response of any size.
constexpr std::size_t kMaxChildrenPerRoom = 1000;
/// Deeper than this is never walked, whatever max_depth says.
constexpr std::int64_t kMaxDepth = 20;

/// What the hierarchy shows of one room, from its current state.
struct Summary {
  nlohmann::json chunk = nlohmann::json::object();
  std::string join_rule = "invite";
  nlohmann::json allow = nlohmann::json::array();
  bool world_readable = false;
  struct Child {
    std::string room_id;
    std::string order;
    std::int64_t ts = 0;
    bool suggested = false;
  };
  std::vector<Child> children;
  nlohmann::json children_state = nlohmann::json::array();
};

std::string content_string(const nlohmann::json& content, const char* key) {
  auto it = content.find(key);
  return it != content.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// The spec's "order": printable ASCII (0x20-0x7E), at most 50 characters;
/// anything else counts as absent.
std::optional<std::string> valid_order(const nlohmann::json& content) {
  auto it = content.find("order");
  if (it == content.end() || !it->is_string()) return std::nullopt;
  const auto& text = it->get_ref<const std::string&>();
  if (text.size() > 50) return std::nullopt;
  for (unsigned char ch : text) {
    if (ch < 0x20 || ch > 0x7E) return std::nullopt;
  }
  return text;
}

/// Summaries of `rooms` (those this server knows), in two queries: the
/// state the hierarchy shows, and the joined member counts.
std::map<std::string, Summary> load_summaries(storage::Transaction& tx,
                                              const std::vector<std::string>& rooms) {
  std::map<std::string, Summary> out;
  if (rooms.empty()) return out;
  const auto ids = rooms::pg_text_array(rooms);
  for (const auto& row :
       tx.exec("SELECT c.room_id, c.type, c.state_key, ev.pdu FROM current_state c "
               "JOIN events ev ON ev.event_id = c.event_id WHERE c.room_id = ANY($1::text[]) "
               "AND c.type IN ('m.room.create', 'm.room.name', 'm.room.topic', 'm.room.avatar', "
               "'m.room.canonical_alias', 'm.room.join_rules', 'm.room.history_visibility', "
               "'m.room.guest_access', 'm.room.encryption', 'm.space.child')",
               ids)) {
    const auto room_id = row[0].as<std::string>();
    const auto type = row[1].as<std::string>();
    const auto state_key = row[2].as<std::string>();
    auto pdu = nlohmann::json::parse(row[3].as<std::string>(), nullptr, false);
    if (pdu.is_discarded()) continue;
    const auto content = pdu.value("content", nlohmann::json::object());
    if (!content.is_object()) continue;
    Summary& s = out[room_id];
    auto& chunk = s.chunk;
    if (type == "m.room.create") {
      if (auto t = content.find("type"); t != content.end() && t->is_string()) {
        chunk["room_type"] = *t;
      }
      const auto version = content_string(content, "room_version");
      chunk["room_version"] = version.empty() ? "1" : version;
    } else if (type == "m.room.name" && !content_string(content, "name").empty()) {
      chunk["name"] = content_string(content, "name");
    } else if (type == "m.room.topic" && !content_string(content, "topic").empty()) {
      chunk["topic"] = content_string(content, "topic");
    } else if (type == "m.room.avatar" && !content_string(content, "url").empty()) {
      chunk["avatar_url"] = content_string(content, "url");
    } else if (type == "m.room.canonical_alias" && !content_string(content, "alias").empty()) {
      chunk["canonical_alias"] = content_string(content, "alias");
    } else if (type == "m.room.join_rules") {
      s.join_rule = content_string(content, "join_rule");
      if (auto a = content.find("allow"); a != content.end() && a->is_array()) s.allow = *a;
    } else if (type == "m.room.history_visibility") {
      s.world_readable = content_string(content, "history_visibility") == "world_readable";
    } else if (type == "m.room.guest_access") {
      chunk["guest_can_join"] = content_string(content, "guest_access") == "can_join";
    } else if (type == "m.room.encryption" && !content_string(content, "algorithm").empty()) {
      chunk["encryption"] = content_string(content, "algorithm");
    } else if (type == "m.space.child") {
      // spec: a child without a non-empty "via" is not a child.
      auto via = content.find("via");
      if (via == content.end() || !via->is_array() || via->empty()) continue;
      if (s.children.size() >= kMaxChildrenPerRoom) continue;
      const auto ts = pdu.value("origin_server_ts", nlohmann::json(0));
      Summary::Child child{state_key, valid_order(content).value_or("\x7F"),
                           ts.is_number_integer() ? ts.get<std::int64_t>() : 0,
                           content.value("suggested", nlohmann::json(false)) == true};
      // Children with an order come first, in its order (\x7F sorts after
      // every valid order).
      s.children.push_back(std::move(child));
      s.children_state.push_back({{"type", type},
                                  {"state_key", state_key},
                                  {"content", content},
                                  {"sender", content_string(pdu, "sender")},
                                  {"origin_server_ts", ts}});
    }
  }
  for (const auto& row :
       tx.exec("SELECT room_id, count(*) FROM room_memberships WHERE room_id = ANY($1::text[]) "
               "AND membership = 'join' GROUP BY room_id",
               ids)) {
    auto it = out.find(row[0].as<std::string>());
    if (it != out.end()) it->second.chunk["num_joined_members"] = row[1].as<std::int64_t>();
  }
  for (auto& [room_id, s] : out) {
    s.chunk["room_id"] = room_id;
    s.chunk["world_readable"] = s.world_readable;
    if (!s.chunk.contains("guest_can_join")) s.chunk["guest_can_join"] = false;
    if (!s.chunk.contains("num_joined_members")) s.chunk["num_joined_members"] = 0;
    s.chunk["join_rule"] = s.join_rule;
    s.chunk["children_state"] = s.children_state;
    std::sort(s.children.begin(), s.children.end(), [](const auto& a, const auto& b) {
      return std::tie(a.order, a.ts, a.room_id) < std::tie(b.order, b.ts, b.room_id);
    });
  }
  return out;
}

/// May the user see the room in a hierarchy (spec: "Spaces", server
/// behaviour; Synapse's accessibility rule)?
bool accessible(const Summary& s, const std::string& membership,
                const std::set<std::string>& joined_rooms) {
  if (membership == "join" || membership == "invite") return true;
  if (s.world_readable) return true;
  // Knockable rooms are shown so that the user can ask to join.
  if (s.join_rule == "public" || s.join_rule == "knock" || s.join_rule == "knock_restricted") {
    return true;
  }
  if (s.join_rule == "restricted") {
    for (const auto& rule : s.allow) {
      if (rule.is_object() && rule.value("type", nlohmann::json()) == "m.room_membership" &&
          rule.contains("room_id") && rule["room_id"].is_string() &&
          joined_rooms.count(rule["room_id"].get<std::string>())) {
        return true;
      }
    }
  }
  return false;
}

std::size_t size_param(const http::Request& req, const char* name, std::size_t fallback,
                       std::size_t max) {
  auto text = req.query(name);
  if (!text) return fallback;
  std::size_t value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size()) {
    throw invalid_param(std::string("'") + name + "' must be a non-negative integer");
  }
  return std::min(value, max);
}

http::Response hierarchy(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string root = room_id_param(req);
  const auto suggested_text = req.query("suggested_only");
  if (suggested_text && *suggested_text != "true" && *suggested_text != "false") {
    throw invalid_param("'suggested_only' must be true or false");
  }
  const bool suggested_only = suggested_text && *suggested_text == "true";
  std::size_t limit = size_param(req, "limit", kDefaultLimit, kMaxLimit);
  if (limit == 0) limit = kDefaultLimit;
  const auto max_depth =
      static_cast<std::int64_t>(size_param(req, "max_depth", kMaxDepth, kMaxDepth));
  // from: "<offset>_<max_depth>_<suggested>", so a token used with other
  // parameters is refused as the spec asks.
  std::size_t offset = 0;
  if (auto from = req.query("from"); from && !from->empty()) {
    const std::string tail = "_" + std::to_string(max_depth) + "_" + (suggested_only ? "1" : "0");
    auto [ptr, ec] = std::from_chars(from->data(), from->data() + from->size(), offset);
    if (ec != std::errc() || std::string_view(ptr, from->data() + from->size() - ptr) != tail ||
        offset > kMaxRoomsWalked) {
      throw invalid_param("Invalid 'from' token (or the parameters changed since)");
    }
  }

  auto out = ctx.db.read([&](storage::Transaction& tx) {
    std::map<std::string, std::string> memberships;
    std::set<std::string> joined;
    for (const auto& row : tx.exec(
             "SELECT room_id, membership FROM room_memberships WHERE user_id = $1", who.user_id)) {
      memberships[row[0].as<std::string>()] = row[1].as<std::string>();
      if (row[1].as<std::string>() == "join") joined.insert(row[0].as<std::string>());
    }
    nlohmann::json rooms = nlohmann::json::array();
    std::size_t listed = 0;  // accessible rooms walked, those skipped by `from` included
    bool more = false;
    std::set<std::string> visited{root};
    std::vector<std::string> level{root};
    for (std::int64_t depth = 0; !level.empty() && !more; ++depth) {
      auto summaries = load_summaries(tx, level);
      std::vector<std::string> next;
      for (const auto& room_id : level) {
        auto it = summaries.find(room_id);
        const std::string membership =
            memberships.count(room_id) ? memberships.at(room_id) : std::string();
        if (it == summaries.end() || !accessible(it->second, membership, joined)) {
          if (room_id == root) {
            tx.need_primary();
            throw forbidden("You may not see room " + root);
          }
          continue;
        }
        if (listed >= offset + limit) {
          more = true;
          break;
        }
        if (listed++ >= offset) rooms.push_back(it->second.chunk);
        if (depth >= max_depth) continue;
        for (const auto& child : it->second.children) {
          if (suggested_only && !child.suggested) continue;
          if (visited.size() >= kMaxRoomsWalked) break;
          if (visited.insert(child.room_id).second) next.push_back(child.room_id);
        }
      }
      level = std::move(next);
    }
    nlohmann::json body{{"rooms", rooms}};
    if (more) {
      body["next_batch"] = std::to_string(offset + limit) + "_" + std::to_string(max_depth) + "_" +
                           (suggested_only ? "1" : "0");
    }
    return body;
  });
  return http::Response::json(200, out);
}

}  // namespace

void add_space_hierarchy_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/_matrix/client/v1/rooms/{roomId}/hierarchy",
             [&ctx](http::Request& req) { return hierarchy(ctx, req); });
}

}  // namespace eltrix::client
