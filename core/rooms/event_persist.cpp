#include "rooms/event_persist.h"

#include "matrix/canonical_json.h"
#include "matrix/redaction.h"
#include "rooms/current_state_update.h"
#include "rooms/event_sql_content.h"
#include "storage/stream.h"

#include <algorithm>

namespace eltrix::rooms {

namespace {

void apply_redaction(storage::Transaction& tx, const PendingEvent& event) {
  const StoredEvent& target = *event.redaction_target;
  // Redact in place: the stored PDU keeps exactly what the room version's
  // redaction algorithm keeps (hashes and signatures stay valid for it).
  nlohmann::json redacted = matrix::redact_event(target.pdu, *event.version);
  const nlohmann::json kept = redacted.value("content", nlohmann::json::object());
  tx.exec(
      "UPDATE events SET pdu = $1, redacted_by = $2, sql_content = $4::jsonb "
      "WHERE event_id = $3",
      matrix::canonical_json(redacted), event.event_id, target.event_id,
      event_sql_content(target.type(), target.pdu.contains("state_key"), kept));
}

/// Moves the forward extremities past `event` (before its row is written);
/// true when it now is the only one and sits on every earlier one (the
/// current state then changes by the event alone).
bool update_extremities(storage::Transaction& tx, const PendingEvent& event) {
  const std::string& room_id = event.room.room_id;
  // A local event was built on the extremities read under this lock.
  std::vector<std::string> before = event.extremities_seen;
  if (!event.local || !event.extremities_complete) {
    before.clear();
    for (const auto& row :
         tx.exec("SELECT event_id FROM room_forward_extremities WHERE room_id = $1", room_id)) {
      before.push_back(row[0].as<std::string>());
    }
  }
  if (!event.prev_events.empty()) {
    tx.exec(
        "DELETE FROM room_forward_extremities WHERE room_id = $1 AND event_id = ANY($2::text[])",
        room_id, pg_text_array(event.prev_events));
  }
  // An event some stored event already names arrived late: it is behind the
  // extremities, not one of them.
  // A local event was just built: nothing can name it yet.
  const bool named =
      !event.local &&
      tx.exec_optional("SELECT 1 FROM event_edges WHERE prev_event_id = $1 LIMIT 1", event.event_id)
          .has_value();
  if (!named) {
    tx.exec("INSERT INTO room_forward_extremities (room_id, event_id) VALUES ($1, $2)", room_id,
            event.event_id);
  }
  return !named && std::all_of(before.begin(), before.end(), [&](const std::string& id) {
    return std::find(event.prev_events.begin(), event.prev_events.end(), id) !=
           event.prev_events.end();
  });
}

}  // namespace

CommittedEvent persist_event(storage::Transaction& tx, const PendingEvent& event,
                             const Outcome& outcome) {
  const std::string& room_id = event.room.room_id;
  const bool soft_failed = outcome.verdict == Verdict::soft_failed;

  const StateGroup before = resolved_group(tx, room_id, event.state_before);
  StateGroup after = before;
  if (event.state_key) {
    after =
        store_state_group(tx, room_id, before, {{{event.type, *event.state_key}, event.event_id}});
  }

  CommittedEvent out{
      .room_id = room_id,
      .event_id = event.event_id,
      .type = event.type,
      .state_key = event.state_key,
      .sender = event.sender,
      .membership =
          event.type == "m.room.member"
              ? event.pdu.value("content", nlohmann::json::object()).value("membership", "")
              : "",
      .local = event.local,
      .soft_failed = soft_failed};
  const auto& content = event.pdu.value("content", nlohmann::json::object());
  const auto ts = event.pdu.value("origin_server_ts", nlohmann::json(0));

  StateGroup current_group_before;
  if (soft_failed) {
    if (auto row = tx.exec_optional("SELECT current_after FROM events WHERE room_id = $1 "
                                    "ORDER BY stream_ordering DESC LIMIT 1",
                                    room_id)) {
      current_group_before = storage::nullable<std::int64_t>((*row)[0]);
    }
  }

  // The room's current state once this event is in: the state after it when
  // it sits on every extremity (every local event); else resolved from the
  // extremities below, once the event's row is there; a soft-failed event
  // leaves it as it was.
  const bool on_top = !soft_failed && update_extremities(tx, event);
  const StateGroup current = soft_failed ? current_group_before : after;

  // The one stream position this event takes: claimed after the slow work
  // above, as late as possible (storage/stream.h).
  out.stream = storage::advance_stream(tx);
  tx.exec(
      "INSERT INTO events (stream_ordering, event_id, room_id, type, state_key, sender, depth, "
      "origin_server_ts, pdu, membership, txn_device_id, txn_id, sql_content, state_before, "
      "state_after, current_after) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15, $16)",
      out.stream, event.event_id, room_id, event.type, event.state_key, event.sender, event.depth,
      ts.is_number_integer() ? ts.get<std::int64_t>() : std::int64_t{0}, event.text,
      out.membership.empty() ? std::optional<std::string>() : std::optional(out.membership),
      event.txn ? std::optional(event.txn->device_id) : std::nullopt,
      event.txn ? std::optional(event.txn->txn_id) : std::nullopt,
      event_sql_content(event.type, event.state_key.has_value(), content), before, after, current);
  if (!event.prev_events.empty()) {
    tx.exec(
        "INSERT INTO event_edges (event_id, prev_event_id, room_id) "
        "SELECT $1, p, $2 FROM unnest($3::text[]) AS p ON CONFLICT DO NOTHING",
        event.event_id, room_id, pg_text_array(event.prev_events));
  }

  if (!soft_failed) {
    if (on_top) {
      advance_current_state(tx, event, out.stream);
    } else {
      tx.exec("UPDATE events SET current_after = $2 WHERE event_id = $1", event.event_id,
              resolve_current_state(tx, room_id));
    }
  }
  if (event.redaction_target) apply_redaction(tx, event);
  if (event.txn) {
    tx.exec(
        "INSERT INTO event_transactions (user_id, device_id, endpoint, txn_id, room_id, event_id) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        event.sender, event.txn->device_id, event.txn->endpoint, event.txn->txn_id, room_id,
        event.event_id);
  }
  return out;
}

}  // namespace eltrix::rooms
