#include "rooms/event_relations.h"

#include "matrix/ids.h"

namespace eltrix::rooms {

namespace {

constexpr std::size_t kMaxField = 255;

}  // namespace

std::optional<Relation> relation_of(const nlohmann::json& content) {
  if (!content.is_object()) return std::nullopt;
  auto it = content.find("m.relates_to");
  if (it == content.end() || !it->is_object()) return std::nullopt;
  auto rel_type = it->find("rel_type");
  auto parent = it->find("event_id");
  if (rel_type == it->end() || parent == it->end() || !rel_type->is_string() ||
      !parent->is_string()) {
    return std::nullopt;
  }
  Relation out{rel_type->get<std::string>(), parent->get<std::string>(), std::nullopt};
  if (out.rel_type.empty() || out.rel_type.size() > kMaxField || out.parent.size() > kMaxField ||
      out.rel_type.find('\0') != std::string::npos || !matrix::is_valid_event_id(out.parent)) {
    return std::nullopt;
  }
  if (auto key = it->find("key"); key != it->end() && key->is_string()) {
    const auto& text = key->get_ref<const std::string&>();
    if (text.size() <= kMaxField && text.find('\0') == std::string::npos) out.key = text;
  }
  return out;
}

void record_relation(storage::Transaction& tx, const PendingEvent& event, std::int64_t stream) {
  // A state event with a relation is still a state event: the spec defines
  // relations on message events, and Synapse ignores them on state.
  if (event.state_key) return;
  auto relation = relation_of(event.pdu.value("content", nlohmann::json::object()));
  if (!relation) return;
  const auto ts = event.pdu.value("origin_server_ts", nlohmann::json(0));
  tx.defer(
      "INSERT INTO event_relations (event_id, relates_to_id, rel_type, aggregation_key, room_id, "
      "type, sender, depth, stream_ordering, origin_server_ts) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
      event.event_id, relation->parent, relation->rel_type, relation->key, event.room.room_id,
      event.type, event.sender, event.depth, stream,
      ts.is_number_integer() ? ts.get<std::int64_t>() : std::int64_t{0});
  if (relation->rel_type == "m.thread") {
    // Positions only grow, so the newest reply's wins even when two replies
    // of one thread commit in either order.
    tx.defer(
        "INSERT INTO room_threads (room_id, thread_id, latest_stream) VALUES ($1, $2, $3) "
        "ON CONFLICT (room_id, thread_id) DO UPDATE SET latest_stream = "
        "GREATEST(room_threads.latest_stream, EXCLUDED.latest_stream)",
        event.room.room_id, relation->parent, stream);
  }
}

void forget_relation(storage::Transaction& tx, const std::string& event_id) {
  tx.exec("DELETE FROM event_relations WHERE event_id = $1", event_id);
}

}  // namespace eltrix::rooms
