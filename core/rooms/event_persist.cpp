#include "rooms/event_persist.h"

#include "matrix/canonical_json.h"
#include "matrix/redaction.h"
#include "rooms/current_state_update.h"
#include "rooms/event_relations.h"
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
  forget_relation(tx, target.event_id);
}

/// Whether `event` becomes a forward extremity (no stored event names it yet:
/// else it arrived late, behind them), and whether it then sits on every
/// earlier one (the current state changes by the event alone).
struct ExtremityChange {
  bool becomes_extremity = true;
  bool on_top = true;
};

ExtremityChange extremity_change(storage::Transaction& tx, const PendingEvent& event) {
  // A local event was built on the extremities it read: the current ones
  // under an exclusive lock; under a shared one, others may have forked
  // beside it since, all on the same state (no state event runs meanwhile).
  // Nothing can name it yet.
  if (event.local && event.extremities_complete) return {};
  std::vector<std::string> before;
  for (const auto& row : tx.exec("SELECT event_id FROM room_forward_extremities WHERE room_id = $1",
                                 event.room.room_id)) {
    before.push_back(row[0].as<std::string>());
  }
  const bool named =
      !event.local &&
      tx.exec_optional("SELECT 1 FROM event_edges WHERE prev_event_id = $1 LIMIT 1", event.event_id)
          .has_value();
  ExtremityChange change;
  change.becomes_extremity = !named;
  change.on_top = !named && std::all_of(before.begin(), before.end(), [&](const std::string& id) {
    return std::find(event.prev_events.begin(), event.prev_events.end(), id) !=
           event.prev_events.end();
  });
  return change;
}

// The event's row, its edges, the extremities it replaces and becomes, and
// the sender's transaction ID, in one statement (one round trip; foreign
// keys are checked at its end).
//
// Extremities live in slots updated in place (D38): the event takes the
// slot of one extremity it names and empties the slots of the others; when
// it names none that it can take, it takes a free slot, or adds one,
// numbered by a hash of its event ID: senders adding slots at once then do
// not collide on the key (a hash collision is a unique violation, and the
// send is retried: RoomServiceImpl::send). The slots it names are taken only
// when no concurrent sender holds them (SKIP LOCKED): that sender's event
// replaces them too, and waiting for its commit would serialise a room's
// senders again. A soft-failed event ($20 false) replaces no extremity.
// The transaction ID's row is a plain INSERT: another request with the same
// ID committed meanwhile (a client's retry racing its first attempt under a
// shared lock) is a unique violation, and the send runs again and finds it.
// Nothing reads the statement's result, so it is deferred to the COMMIT's
// round trip (Transaction::defer; D39) unless later statements need its rows.
const std::string kInsertEventSql =
    "WITH ev AS (INSERT INTO events (stream_ordering, event_id, room_id, type, state_key, sender, "
    "  depth, origin_server_ts, pdu, membership, txn_device_id, txn_id, sql_content, "
    "  state_before, state_after, current_after) "
    "  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15, $16)), "
    "held AS (SELECT slot FROM room_extremity_slots WHERE $20::boolean AND room_id = $3::text "
    "  AND event_id = ANY($17::text[]) FOR UPDATE SKIP LOCKED), "
    "free AS (SELECT slot FROM room_extremity_slots WHERE $18::boolean AND room_id = $3::text "
    "  AND event_id IS NULL AND NOT EXISTS (SELECT 1 FROM held) "
    "  ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED), "
    "taken AS (SELECT slot FROM held UNION ALL SELECT slot FROM free), "
    "mine AS (SELECT min(slot) AS slot FROM taken WHERE $18::boolean), "
    "ext AS (UPDATE room_extremity_slots x SET "
    "  event_id = CASE WHEN x.slot = (SELECT slot FROM mine) THEN $2::text END, "
    "  depth = CASE WHEN x.slot = (SELECT slot FROM mine) THEN $7::bigint END, "
    "  stream_ordering = CASE WHEN x.slot = (SELECT slot FROM mine) THEN $1::bigint END, "
    "  state_after = CASE WHEN x.slot = (SELECT slot FROM mine) THEN $15::bigint END "
    "  WHERE x.room_id = $3::text AND x.slot IN (SELECT slot FROM taken)), "
    "grow AS (INSERT INTO room_extremity_slots (room_id, slot, event_id, depth, stream_ordering, "
    "  state_after) SELECT $3::text, hashtext($2::text), $2::text, $7::bigint, $1::bigint, "
    "$15::bigint "
    "  WHERE $18::boolean AND (SELECT slot FROM mine) IS NULL), "
    "edges AS (INSERT INTO event_edges (event_id, prev_event_id, room_id) "
    "  SELECT $2::text, p, $3::text FROM unnest($17::text[]) AS p ON CONFLICT DO NOTHING) "
    "INSERT INTO event_transactions (user_id, device_id, endpoint, txn_id, room_id, event_id) "
    "SELECT $6::text, $11::text, $19::text, $12::text, $3::text, $2::text WHERE $12::text IS NOT "
    "NULL";

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
  const ExtremityChange extremities =
      soft_failed ? ExtremityChange{false, false} : extremity_change(tx, event);
  const StateGroup current = soft_failed ? current_group_before : after;

  // The one stream position this event takes: claimed after the slow work
  // above, as late as possible (storage/stream.h).
  out.stream = storage::advance_stream(tx);
  tx.defer(kInsertEventSql, out.stream, event.event_id, room_id, event.type, event.state_key,
           event.sender, event.depth,
           ts.is_number_integer() ? ts.get<std::int64_t>() : std::int64_t{0}, event.text,
           out.membership.empty() ? std::optional<std::string>() : std::optional(out.membership),
           event.txn ? std::optional(event.txn->device_id) : std::nullopt,
           event.txn ? std::optional(event.txn->txn_id) : std::nullopt,
           event_sql_content(event.type, event.state_key.has_value(), content), before, after,
           current, pg_text_array(event.prev_events), extremities.becomes_extremity,
           event.txn ? std::optional(event.txn->endpoint) : std::nullopt, !soft_failed);
  // Relations are facts of the stored event, whoever sent it; a soft-failed
  // event is stored but never shown, so it aggregates nowhere either.
  if (!soft_failed) record_relation(tx, event, out.stream);

  if (!soft_failed) {
    if (extremities.on_top) {
      advance_current_state(tx, event, out.stream);
    } else {
      tx.exec("UPDATE events SET current_after = $2 WHERE event_id = $1", event.event_id,
              resolve_current_state(tx, room_id));
    }
  }
  if (event.redaction_target) apply_redaction(tx, event);
  return out;
}

}  // namespace eltrix::rooms
