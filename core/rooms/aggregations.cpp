#include "rooms/aggregations.h"

#include <optional>

namespace eltrix::rooms {

namespace {

/// References listed per event at most: a popular event must not make every
/// response that shows it arbitrarily large.
constexpr int kMaxReferences = 100;

// One row per thread and edit, one per reference: the event columns
// (kEventColumns) of the child shown (the thread's newest reply, the newest
// edit, each reference, all of which the visibility check then sees), then
// kind, parent, count and participated. Children are found through
// event_relations_parent. An edit counts only when it is by the original's
// sender, of the original's type, and the original is neither a state event
// nor itself an edit (spec: "Validity of replacement events"); the newest is
// by origin_server_ts, then event ID. References: the first $4 of each.
const std::string kAggregationSql =
    "WITH rel AS (SELECT x.* FROM event_relations x WHERE x.relates_to_id = ANY($1::text[]) "
    "  AND x.room_id = $2 AND x.rel_type IN ('m.thread', 'm.reference', 'm.replace')), "
    "threads AS (SELECT relates_to_id AS parent, count(*) AS n, bool_or(sender = $3) AS mine, "
    "  (array_agg(event_id ORDER BY depth DESC, stream_ordering DESC))[1] AS pick "
    "  FROM rel WHERE rel_type = 'm.thread' GROUP BY relates_to_id), "
    "refs AS (SELECT relates_to_id AS parent, event_id AS pick, row_number() OVER ("
    "  PARTITION BY relates_to_id ORDER BY depth, stream_ordering) AS k "
    "  FROM rel WHERE rel_type = 'm.reference'), "
    "edits AS (SELECT DISTINCT ON (rel.relates_to_id) rel.relates_to_id AS parent, "
    "  rel.event_id AS pick FROM rel JOIN events o ON o.event_id = rel.relates_to_id "
    "  WHERE rel.rel_type = 'm.replace' AND rel.sender = o.sender AND rel.type = o.type "
    "    AND o.state_key IS NULL AND NOT EXISTS (SELECT 1 FROM event_relations oe "
    "      WHERE oe.event_id = o.event_id AND oe.rel_type = 'm.replace') "
    "  ORDER BY rel.relates_to_id, rel.origin_server_ts DESC, rel.event_id DESC), "
    "agg AS (SELECT 'm.thread' AS kind, parent, n, mine, pick FROM threads "
    "  UNION ALL SELECT 'm.reference', parent, 1, false, pick FROM refs WHERE k <= $4::int "
    "  UNION ALL SELECT 'm.replace', parent, 1, false, pick FROM edits) "
    "SELECT " +
    std::string(kEventColumns) +
    ", a.kind, a.parent, a.n, a.mine "
    "FROM agg a LEFT JOIN events e ON e.event_id = a.pick "
    "LEFT JOIN events r ON r.event_id = e.redacted_by "
    "ORDER BY a.parent, a.kind, e.depth, e.stream_ordering";

struct Row {
  std::string kind;
  std::string parent;
  std::int64_t count = 0;
  bool mine = false;
  std::optional<StoredEvent> event;
};

/// load_aggregations(); `nested`: for the newest replies of threads, whose
/// own aggregations are not followed any further.
Aggregations load(storage::Transaction& tx, std::string_view room_id,
                  const std::vector<const StoredEvent*>& events, std::string_view user_id,
                  std::string_view device_id, std::int64_t now, Visibility& visibility,
                  bool nested) {
  Aggregations out;
  if (events.empty()) return out;
  std::vector<std::string> ids;
  std::map<std::string, const StoredEvent*> by_id;
  for (const auto* event : events) {
    ids.push_back(event->event_id);
    by_id.emplace(event->event_id, event);
  }
  std::vector<Row> rows;
  for (const auto& row : tx.exec(kAggregationSql, pg_text_array(ids), std::string(room_id),
                                 std::string(user_id), kMaxReferences)) {
    Row r;
    if (!row[1].is_null()) r.event = read_event(row);
    r.kind = row[9].as<std::string>();
    r.parent = row[10].as<std::string>();
    r.count = row[11].as<std::int64_t>();
    r.mine = !row[12].is_null() && row[12].as<bool>();
    rows.push_back(std::move(r));
  }
  if (rows.empty()) return out;

  // The bundled events go through the same visibility check as any other.
  std::vector<StoredEvent> bundled;
  for (const auto& r : rows) {
    if (r.event) bundled.push_back(*r.event);
  }
  visibility.prepare(bundled);

  for (auto& r : rows) {
    const StoredEvent& parent = *by_id.at(r.parent);
    nlohmann::json& relations = out[r.parent];
    if (!r.event || !visibility.can_see(*r.event)) continue;
    if (r.kind == "m.reference") {
      auto& chunk = relations["m.reference"]["chunk"];
      chunk.push_back({{"event_id", r.event->event_id}});
    } else if (r.kind == "m.thread") {
      relations["m.thread"] = {{"latest_event", client_event(*r.event, user_id, device_id, now)},
                               {"count", r.count},
                               {"current_user_participated", r.mine || parent.sender() == user_id}};
    } else if (r.kind == "m.replace" && !parent.redacted_by) {
      // A redacted original has no content left to replace.
      relations["m.replace"] = client_event(*r.event, user_id, device_id, now);
    }
  }
  // A thread's newest reply carries its own edit (clients show the edited
  // text in the thread summary): one more query, only when there are
  // threads, and not recursing further (a reply has no thread of its own).
  std::vector<const StoredEvent*> latest;
  for (const auto& r : rows) {
    if (r.kind == "m.thread" && r.event && out[r.parent].contains("m.thread")) {
      latest.push_back(&*r.event);
    }
  }
  if (!nested && !latest.empty()) {
    const auto edits = load(tx, room_id, latest, user_id, device_id, now, visibility, true);
    for (auto& [parent, relations] : out) {
      if (relations.contains("m.thread")) bundle(relations["m.thread"]["latest_event"], edits);
    }
  }
  for (auto it = out.begin(); it != out.end();) {
    it = it->second.empty() ? out.erase(it) : std::next(it);
  }
  return out;
}

}  // namespace

Aggregations load_aggregations(storage::Transaction& tx, std::string_view room_id,
                               const std::vector<const StoredEvent*>& events,
                               std::string_view user_id, std::string_view device_id,
                               std::int64_t now, Visibility& visibility) {
  return load(tx, room_id, events, user_id, device_id, now, visibility, false);
}

void bundle(nlohmann::json& event, const Aggregations& aggregations) {
  auto id = event.find("event_id");
  if (id == event.end() || !id->is_string()) return;
  auto it = aggregations.find(id->get<std::string>());
  if (it == aggregations.end()) return;
  event["unsigned"]["m.relations"] = it->second;
}

void bundle_all(nlohmann::json& events, const Aggregations& aggregations) {
  for (auto& event : events) bundle(event, aggregations);
}

}  // namespace eltrix::rooms
