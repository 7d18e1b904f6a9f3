#include "client/search.h"

#include "client/auth.h"
#include "client/json_body.h"
#include "rooms/aggregations.h"
#include "rooms/room_scan.h"
#include "rooms/visibility.h"
#include "sync/filter.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <memory>
#include <set>

namespace eltrix::client {

namespace {

constexpr std::size_t kDefaultLimit = 10;
constexpr std::size_t kMaxLimit = 100;
constexpr std::size_t kMaxTermBytes = 1000;
constexpr std::int64_t kDefaultContext = 5;
constexpr std::int64_t kMaxContext = 50;
/// How far ranked pages go: an offset past this is refused rather than
/// making PostgreSQL rank and skip ever more rows.
constexpr std::int64_t kMaxRankOffset = 10000;
/// Matches considered per search, newest first: only these are ranked and
/// counted (the spec calls the count approximate), so a common word over a
/// large history costs a bounded amount. It covers every rank offset allowed.
constexpr std::int64_t kMaxCandidates = kMaxRankOffset + static_cast<std::int64_t>(kMaxLimit);

// Must repeat migration 0018's indexed expression and predicate exactly.
constexpr std::string_view kSearchVector =
    "to_tsvector('english', coalesce(e.sql_content ->> 'body', e.sql_content ->> 'name', "
    "e.sql_content ->> 'topic', ''))";
constexpr std::string_view kSearchTypes =
    "e.type IN ('m.room.message', 'm.room.name', 'm.room.topic')";

/// The event types holding the keys asked for (spec: content.body,
/// content.name, content.topic; all three by default).
std::vector<std::string> types_of_keys(const nlohmann::json* keys) {
  if (!keys) return {"m.room.message", "m.room.name", "m.room.topic"};
  std::vector<std::string> types;
  for (const auto& key : *keys) {
    if (!key.is_string()) throw bad_json("'keys' must be a list of strings");
    const auto& name = key.get_ref<const std::string&>();
    if (name == "content.body") {
      types.emplace_back("m.room.message");
    } else if (name == "content.name") {
      types.emplace_back("m.room.name");
    } else if (name == "content.topic") {
      types.emplace_back("m.room.topic");
    } else {
      throw bad_json("'keys' may hold content.body, content.name and content.topic");
    }
  }
  return types;
}

/// next_batch: "r<offset>" for order_by rank, "s<stream>" for recent (the
/// next page has older events only, so new matches do not shift it).
struct Batch {
  bool by_rank = true;
  std::int64_t value = 0;
};

std::optional<Batch> parse_batch(const std::optional<std::string>& text, bool by_rank) {
  if (!text || text->empty()) return std::nullopt;
  Batch batch{(*text)[0] == 'r', 0};
  auto [ptr, ec] = std::from_chars(text->data() + 1, text->data() + text->size(), batch.value);
  if (((*text)[0] != 'r' && (*text)[0] != 's') || ec != std::errc() ||
      ptr != text->data() + text->size() || batch.value < 0 || batch.by_rank != by_rank) {
    throw invalid_param("Invalid 'next_batch' token");
  }
  if (by_rank && batch.value > kMaxRankOffset) throw invalid_param("'next_batch' is too far");
  return batch;
}

/// The words of the search term, lowercased, for "highlights" (the spec
/// leaves to the server which strings a client should highlight).
nlohmann::json highlights_of(const std::string& term) {
  std::set<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty() && word != "or" && word.size() <= 100) words.insert(word);
    word.clear();
  };
  for (unsigned char ch : term) {
    if (std::isalnum(ch) || ch >= 0x80) {
      word.push_back(static_cast<char>(std::tolower(ch)));
    } else {
      flush();
    }
  }
  flush();
  return nlohmann::json(std::vector<std::string>(words.begin(), words.end()));
}

std::int64_t context_limit(const nlohmann::json& context, const char* name) {
  auto value = optional_int(context, name);
  if (!value) return kDefaultContext;
  if (*value < 0) throw bad_json(std::string("'") + name + "' must not be negative");
  return std::min(*value, kMaxContext);
}

struct Hit {
  rooms::StoredEvent event;
  double rank = 0;
  std::string room_id;
};

http::Response search(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const nlohmann::json& body = req.json();
  const nlohmann::json* categories = optional_object(body, "search_categories");
  if (!categories) throw bad_json("'search_categories' is required");
  const nlohmann::json* criteria = optional_object(*categories, "room_events");
  // Only room_events exists in the spec; nothing asked, nothing found.
  if (!criteria) {
    return http::Response::json(200,
                                nlohmann::json{{"search_categories", nlohmann::json::object()}});
  }
  const std::string term = require_string(*criteria, "search_term");
  if (term.size() > kMaxTermBytes) throw bad_json("'search_term' is too long");
  const auto types = types_of_keys(optional_array(*criteria, "keys"));
  const std::string order_by = optional_string(*criteria, "order_by").value_or("rank");
  if (order_by != "rank" && order_by != "recent") {
    throw bad_json("'order_by' must be 'rank' or 'recent'");
  }
  const bool by_rank = order_by == "rank";
  sync::RoomEventFilter filter;
  if (const auto* f = optional_object(*criteria, "filter")) {
    filter = sync::parse_filter({{"room", {{"timeline", *f}}}}).room.timeline;
  }
  const std::size_t limit = filter.limit_or(kDefaultLimit, kMaxLimit);
  const nlohmann::json* event_context = optional_object(*criteria, "event_context");
  const bool include_state = optional_bool(*criteria, "include_state").value_or(false);
  bool group_by_room = false;
  bool group_by_sender = false;
  if (const auto* groupings = optional_object(*criteria, "groupings")) {
    if (const auto* list = optional_array(*groupings, "group_by")) {
      for (const auto& group : *list) {
        if (!group.is_object()) throw bad_json("group_by entries must be objects");
        const std::string key = optional_string(group, "key").value_or("");
        if (key == "room_id") {
          group_by_room = true;
        } else if (key == "sender") {
          group_by_sender = true;
        } else {
          throw bad_json("group_by keys must be 'room_id' or 'sender'");
        }
      }
    }
  }
  const bool include_profile =
      event_context && optional_bool(*event_context, "include_profile").value_or(false);
  const std::int64_t before_limit =
      event_context ? context_limit(*event_context, "before_limit") : 0;
  const std::int64_t after_limit = event_context ? context_limit(*event_context, "after_limit") : 0;
  const auto batch = parse_batch(req.query("next_batch"), by_rank);
  const auto now = rooms::now_ms();

  auto out = ctx.db.read([&](storage::Transaction& tx) {
    // The rooms searched: those the user is joined to, narrowed by the filter.
    std::vector<std::string> rooms;
    for (const auto& row :
         tx.exec("SELECT room_id FROM room_memberships WHERE user_id = $1 AND membership = 'join'",
                 who.user_id)) {
      auto room_id = row[0].as<std::string>();
      if (filter.matches_room(room_id)) rooms.push_back(std::move(room_id));
    }
    // Senders go into the query; types (with their wildcards) and
    // contains_url are checked on each row below.
    const std::optional<std::string> senders =
        filter.senders ? std::optional(rooms::pg_text_array(*filter.senders)) : std::nullopt;
    const std::string order =
        by_rank ? "rank DESC, e.stream_ordering DESC" : "e.stream_ordering DESC";
    // The matches (the GIN index finds them), newest first and at most
    // kMaxCandidates; only those are ranked, counted and paged.
    const std::string sql =
        "WITH candidates AS (SELECT e.stream_ordering FROM events e WHERE " +
        std::string(kSearchTypes) + " AND " + std::string(kSearchVector) +
        " @@ websearch_to_tsquery('english', $1) AND e.type = ANY($2::text[]) AND e.room_id = "
        "ANY($3::text[]) "
        "AND e.redacted_by IS NULL "
        "AND ($4::text[] IS NULL OR e.sender = ANY($4::text[])) "
        "AND NOT (e.sender = ANY($5::text[])) "
        "AND e.stream_ordering < $6 "
        "ORDER BY e.stream_ordering DESC LIMIT $9) "
        "SELECT " +
        std::string(rooms::kEventColumns) + ", ts_rank_cd(" + std::string(kSearchVector) +
        ", websearch_to_tsquery('english', $1)) AS rank, count(*) OVER () FROM " +
        std::string(rooms::kEventJoin) +
        " WHERE e.stream_ordering IN (SELECT stream_ordering FROM candidates) ORDER BY " + order +
        " LIMIT $7 OFFSET $8";
    const std::int64_t offset = batch && by_rank ? batch->value : 0;
    const std::int64_t below = batch && !by_rank ? batch->value : INT64_MAX;
    auto rows = tx.exec(sql, term, rooms::pg_text_array(types), rooms::pg_text_array(rooms),
                        senders, rooms::pg_text_array(filter.not_senders), below,
                        static_cast<std::int64_t>(limit + 1), offset, kMaxCandidates);
    std::int64_t count = rows.empty() ? 0 : rows[0][10].as<std::int64_t>();
    std::vector<Hit> hits;
    for (const auto& row : rows) {
      Hit hit{rooms::read_event(row), row[9].as<double>(), {}};
      hit.room_id = hit.event.pdu.value("room_id", "");
      hits.push_back(std::move(hit));
    }
    const bool more = hits.size() > limit;
    if (more) hits.resize(limit);
    std::optional<std::string> next_batch;
    if (more) {
      next_batch = by_rank ? "r" + std::to_string(offset + static_cast<std::int64_t>(limit))
                           : "s" + std::to_string(hits.back().event.stream);
    }

    // One Visibility per room, each prepared with that room's hits at once.
    std::map<std::string, std::unique_ptr<rooms::Visibility>> visibility;
    std::map<std::string, std::vector<rooms::StoredEvent>> by_room;
    for (const auto& hit : hits) by_room[hit.room_id].push_back(hit.event);
    for (const auto& [room_id, events] : by_room) {
      auto& v = visibility[room_id];
      v = std::make_unique<rooms::Visibility>(tx, room_id, who.user_id);
      v->prepare(events);
    }
    std::vector<Hit> shown;
    for (auto& hit : hits) {
      if (filter.matches(hit.event.pdu) && visibility.at(hit.room_id)->can_see(hit.event)) {
        shown.push_back(std::move(hit));
      }
    }

    nlohmann::json results = nlohmann::json::array();
    std::map<std::string, std::vector<const rooms::StoredEvent*>> shown_by_room;
    for (const auto& hit : shown) {
      shown_by_room[hit.room_id].push_back(&hit.event);
      nlohmann::json result{
          {"rank", hit.rank},
          {"result", rooms::client_event(hit.event, who.user_id, who.device_id, now)}};
      if (event_context) {
        auto& v = *visibility.at(hit.room_id);
        auto side = [&](bool backwards, std::int64_t n) {
          rooms::ScanRequest request{
              .room_id = hit.room_id,
              .topological = true,
              .topo_from = backwards ? rooms::TopologicalKey{hit.event.depth, hit.event.stream - 1}
                                     : rooms::TopologicalKey{hit.event.depth, hit.event.stream},
              .topo_bound =
                  backwards ? rooms::TopologicalKey{} : rooms::TopologicalKey{INT64_MAX, INT64_MAX},
              .backwards = backwards,
              .limit = static_cast<std::size_t>(n),
              .max_rows = ctx.max_events_scanned};
          return rooms::scan_room(
              tx, request, [](const rooms::StoredEvent&) { return true; }, v);
        };
        auto before = side(true, before_limit);
        auto after = side(false, after_limit);
        nlohmann::json context{{"events_before", nlohmann::json::array()},
                               {"events_after", nlohmann::json::array()},
                               {"start", rooms::format_topological_token(before.topo_cursor)},
                               {"end", rooms::format_topological_token(after.topo_cursor)}};
        std::set<std::string> senders_seen{hit.event.sender()};
        for (const auto& e : before.events) {
          context["events_before"].push_back(
              rooms::client_event(e, who.user_id, who.device_id, now));
          senders_seen.insert(e.sender());
        }
        for (const auto& e : after.events) {
          context["events_after"].push_back(
              rooms::client_event(e, who.user_id, who.device_id, now));
          senders_seen.insert(e.sender());
        }
        if (include_profile) {
          // The senders' profiles as the room has them now (their current
          // member events; Synapse does the same).
          nlohmann::json profiles = nlohmann::json::object();
          for (const auto& member : rooms::member_events_at(
                   tx, hit.room_id,
                   std::vector<std::string>(senders_seen.begin(), senders_seen.end()),
                   rooms::kCurrentState)) {
            const auto content = member.pdu.value("content", nlohmann::json::object());
            nlohmann::json profile = nlohmann::json::object();
            for (const char* key : {"displayname", "avatar_url"}) {
              if (content.contains(key) && content[key].is_string()) profile[key] = content[key];
            }
            profiles[member.state_key()] = profile;
          }
          context["profile_info"] = profiles;
        }
        result["context"] = std::move(context);
      }
      results.push_back(std::move(result));
    }
    // Bundled aggregations of the results, one query per room shown.
    for (const auto& [room_id, events] : shown_by_room) {
      const auto aggregations = rooms::load_aggregations(
          tx, room_id, events, who.user_id, who.device_id, now, *visibility.at(room_id));
      for (auto& result : results) rooms::bundle(result["result"], aggregations);
    }

    nlohmann::json room_events{
        {"count", count}, {"highlights", highlights_of(term)}, {"results", results}};
    if (next_batch) room_events["next_batch"] = *next_batch;
    if (group_by_room || group_by_sender) {
      nlohmann::json groups = nlohmann::json::object();
      auto group = [&](const char* key, auto key_of) {
        nlohmann::json buckets = nlohmann::json::object();
        int order = 0;
        for (const auto& hit : shown) {
          const std::string value = key_of(hit);
          if (!buckets.contains(value)) {
            buckets[value] = {{"results", nlohmann::json::array()}, {"order", order++}};
            if (next_batch) buckets[value]["next_batch"] = *next_batch;
          }
          buckets[value]["results"].push_back(hit.event.event_id);
        }
        groups[key] = buckets;
      };
      if (group_by_room) group("room_id", [](const Hit& h) { return h.room_id; });
      if (group_by_sender) group("sender", [](const Hit& h) { return h.event.sender(); });
      room_events["groups"] = groups;
    }
    if (include_state) {
      // The current state of each room with a result (the user is joined:
      // they may see it).
      nlohmann::json state = nlohmann::json::object();
      for (const auto& [room_id, events] : shown_by_room) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& e : rooms::current_state(tx, room_id)) {
          list.push_back(rooms::client_event(e, who.user_id, who.device_id, now));
        }
        state[room_id] = list;
      }
      room_events["state"] = state;
    }
    return nlohmann::json{{"search_categories", {{"room_events", room_events}}}};
  });
  return http::Response::json(200, out);
}

}  // namespace

void add_search_routes(http::Router& router, Context& ctx) {
  router.add(
      "POST", "/_matrix/client/v3/search", [&ctx](http::Request& req) { return search(ctx, req); },
      http::RouteOptions{.body = http::BodyMode::json});
}

}  // namespace eltrix::client
