// Relations between events (spec: "Forming relationships between events"),
// recorded by the persist phase of the room pipeline for every event that
// carries content.m.relates_to with a rel_type and an event_id, local or
// received (migration 0017: event_relations, room_threads).
#pragma once

#include "rooms/pending_event.h"
#include "storage/database.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace eltrix::rooms {

struct Relation {
  std::string rel_type;
  std::string parent;  ///< m.relates_to.event_id
  /// m.relates_to.key when a string of at most 255 bytes (m.annotation's
  /// reaction key).
  std::optional<std::string> key;
};

/// The relation `content` declares, when it declares one in the form the
/// spec gives (both fields strings, of at most 255 bytes, the parent an
/// event ID). Replies (m.in_reply_to alone) are not relations.
std::optional<Relation> relation_of(const nlohmann::json& content);

/// Records `event`'s relation, if any, as deferred statements after its row
/// (Transaction::defer): its event_relations row and, for m.thread, the
/// thread's newest position. `stream` is the event's stream position.
void record_relation(storage::Transaction& tx, const PendingEvent& event, std::int64_t stream);

/// Forgets the relation of a redacted event: redaction strips
/// m.relates_to, so it no longer counts in aggregations or /relations.
void forget_relation(storage::Transaction& tx, const std::string& event_id);

}  // namespace eltrix::rooms
