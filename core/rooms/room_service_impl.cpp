#include "rooms/room_service_impl.h"

#include "errors/error.h"
#include "matrix/auth_rules.h"
#include "matrix/canonical_json.h"
#include "matrix/event_hash.h"
#include "matrix/power_levels.h"
#include "matrix/redaction.h"
#include "matrix/room_version.h"
#include "matrix/signing.h"
#include "matrix/state_content.h"
#include "notify/notifier.h"
#include "rooms/event_sql_content.h"
#include "rooms/restricted_join.h"
#include "rooms/server_keys.h"
#include "storage/directory.h"
#include "storage/stream.h"

#include <fmt/format.h>

namespace eltrix::rooms {

namespace {

/// Content checks the authorization rules do not make, so a malformed event
/// is refused with M_BAD_JSON before anything is stored.
void check_content(const NewEvent& event) {
  std::string why;
  if (!matrix::is_canonical_compatible(event.content, &why)) {
    throw errors::invalid("M_BAD_JSON", "Event content is not valid: " + why);
  }
  if (event.type.empty() || event.type.size() > 255) {
    throw errors::invalid("M_BAD_JSON", "Event type must be 1 to 255 bytes");
  }
  if (event.state_key && event.state_key->size() > 255) {
    throw errors::invalid("M_BAD_JSON", "State key must be at most 255 bytes");
  }
  // The type and state key are also stored as columns, which cannot hold a
  // NUL: "m.room.history_visibility\u0000" would be indexed as the real
  // history visibility while clients see another type (storage refuses it
  // too; this answers with the field's name).
  if (event.type.find('\0') != std::string::npos) {
    throw errors::invalid("M_BAD_JSON", "Event type must not contain NUL (\\u0000)");
  }
  if (event.state_key && event.state_key->find('\0') != std::string::npos) {
    throw errors::invalid("M_BAD_JSON", "State key must not contain NUL (\\u0000)");
  }
  if (event.type == "m.room.member" && !event.state_key) {
    throw errors::invalid("M_BAD_JSON", "m.room.member must be a state event");
  }
  // The state events the server interprets must have the shape it reads
  // (issue 10, finding 9): a malformed one would otherwise be stored and
  // misread by every later request.
  if (event.state_key) {
    if (auto why = matrix::invalid_state_content(event.type, event.content)) {
      throw errors::invalid("M_BAD_JSON", *why);
    }
  }
}

}  // namespace

RoomServiceImpl::RoomServiceImpl(storage::Database& db, ServerKeys& keys,
                                 notify::Notifier& notifier, std::string server_name)
    : db_(db), keys_(keys), notifier_(notifier), server_name_(std::move(server_name)) {}

void RoomServiceImpl::wake(const std::vector<std::string>& keys) {
  if (!keys.empty()) notifier_.notify(keys);
}

SentEvent RoomServiceImpl::send(const std::string& room_id, const NewEvent& event) {
  check_content(event);
  std::vector<std::string> wake_keys;
  SentEvent sent = db_.write([&](storage::Transaction& tx) {
    wake_keys.clear();
    auto room = load_room(tx, room_id, /*lock=*/true);
    // As for a room the sender is not in: whether a room exists is not
    // revealed to non-members (spec: 403 for send and state).
    if (!room) throw errors::forbidden("You are not in room " + room_id);
    return send_in(tx, *room, event, wake_keys);
  });
  wake(wake_keys);
  return sent;
}

SentEvent RoomServiceImpl::send_event(const std::string& room_id, const std::string& sender,
                                      const std::string& type, const nlohmann::json& content,
                                      const std::optional<std::string>& state_key,
                                      const std::optional<Transaction>& txn) {
  NewEvent event{
      .type = type, .sender = sender, .content = content, .state_key = state_key, .txn = txn};
  return send(room_id, event);
}

SentEvent RoomServiceImpl::send_in(storage::Transaction& tx, const RoomInfo& room,
                                   const NewEvent& event, std::vector<std::string>& wake_keys) {
  const matrix::RoomVersion* version = matrix::find_room_version(room.version);
  if (version == nullptr) {
    throw errors::invalid("M_UNSUPPORTED_ROOM_VERSION",
                          "Room version " + room.version + " is not supported here");
  }
  check_content(event);

  // A retried PUT .../send/{txnId} returns the first event (spec:
  // "Transaction identifiers"); the room lock held by the caller makes the
  // check-then-insert safe against a concurrent retry.
  if (event.txn) {
    auto row = tx.exec_optional(
        "SELECT t.event_id, e.stream_ordering FROM event_transactions t "
        "JOIN events e ON e.event_id = t.event_id "
        "WHERE t.user_id = $1 AND t.device_id = $2 AND t.endpoint = $3 AND t.txn_id = $4",
        event.sender, event.txn->device_id, event.txn->endpoint, event.txn->txn_id);
    if (row) return {(*row)[0].as<std::string>(), (*row)[1].as<std::int64_t>()};
  }

  nlohmann::json pdu = {{"type", event.type},
                        {"room_id", room.room_id},
                        {"sender", event.sender},
                        {"content", event.content},
                        {"origin_server_ts", now_ms()}};
  if (event.state_key) pdu["state_key"] = *event.state_key;
  if (!version->creator_is_sender) pdu["origin"] = server_name_;
  if (event.redacts) {
    if (version->v11_redaction) {
      pdu["content"]["redacts"] = *event.redacts;
    } else {
      pdu["redacts"] = *event.redacts;
    }
  }

  // Only this server names who authorised a restricted join, whatever the
  // client sent (rooms/restricted_join.h).
  if (event.type == "m.room.member" && event.state_key) {
    authorise_local_join(tx, room, *version, event.sender, *event.state_key, pdu["content"],
                         server_name_);
  }

  // prev_events: local events form a chain, so the room's forward extremity
  // (normally exactly one event) is the parent.
  auto extremities = tx.exec(
      "SELECT e.event_id, e.depth FROM room_forward_extremities f "
      "JOIN events e ON e.event_id = f.event_id WHERE f.room_id = $1 "
      "ORDER BY e.depth DESC, e.stream_ordering DESC LIMIT 20",
      room.room_id);
  nlohmann::json prev = nlohmann::json::array();
  std::int64_t depth = 0;
  for (const auto& row : extremities) {
    prev.push_back(row[0].as<std::string>());
    depth = std::max(depth, row[1].as<std::int64_t>());
  }
  pdu["prev_events"] = prev;
  pdu["depth"] = depth + 1;

  // auth_events and the state the rules are checked against.
  matrix::AuthState state;
  nlohmann::json auth_events = nlohmann::json::array();
  for (const auto& [type, key] : matrix::auth_event_keys(pdu)) {
    if (auto current = rooms::current_state_event(tx, room.room_id, type, key)) {
      // v4+ PDUs carry no event_id; the rules compare IDs (the creator's
      // first join names the create event in prev_events).
      nlohmann::json with_id = current->pdu;
      with_id["event_id"] = current->event_id;
      state.put(with_id);
      auth_events.push_back(current->event_id);
    }
  }
  pdu["auth_events"] = auth_events;
  if (auto verdict = matrix::check_auth(pdu, state, *version); !verdict) {
    throw errors::forbidden(verdict.reason);
  }
  // Only aliases of this room may be named canonical, whichever way the event
  // comes (PUT /state or createRoom's initial_state). After the auth check:
  // someone who may not set it learns nothing about which aliases exist.
  if (event.type == "m.room.canonical_alias" && event.state_key && event.state_key->empty()) {
    storage::validate_canonical_alias(tx, room.room_id, event.content);
  }

  // Redactions: the rules admit any redaction at auth time in v3+; applying
  // one needs the redact power level, or the sender redacting their own event.
  std::optional<StoredEvent> target;
  if (event.type == "m.room.redaction" && event.redacts) {
    target = load_event(tx, *event.redacts);
    if (!target || !target->pdu.contains("room_id") || target->pdu["room_id"] != room.room_id) {
      throw errors::not_found("Unknown event " + *event.redacts);
    }
    if (target->sender() != event.sender) {
      auto levels_event = rooms::current_state_event(tx, room.room_id, "m.room.power_levels", "");
      auto levels = matrix::PowerLevels::parse(
          levels_event ? &levels_event->pdu["content"] : nullptr, room.creator);
      if (!levels || levels->user_level(event.sender) < levels->redact) {
        throw errors::forbidden("You don't have permission to redact other users' events");
      }
    }
  }

  const auto& key = keys_.signing_key();
  matrix::add_content_hash(pdu);
  matrix::sign_event(pdu, key, server_name_, *version);
  const std::string event_id = matrix::compute_event_id(pdu, *version);
  const std::string text = matrix::canonical_json(pdu);
  if (text.size() > kMaxPduBytes) {
    throw errors::too_large(
        fmt::format("Event is {} bytes; the limit is {}", text.size(), kMaxPduBytes));
  }

  const std::int64_t stream = storage::advance_stream(tx);
  const std::string membership =
      event.type == "m.room.member" ? event.content.value("membership", "") : "";
  tx.exec(
      "INSERT INTO events (stream_ordering, event_id, room_id, type, state_key, sender, depth, "
      "origin_server_ts, pdu, membership, txn_device_id, txn_id, sql_content) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb)",
      stream, event_id, room.room_id, event.type, event.state_key, event.sender, depth + 1,
      pdu["origin_server_ts"].get<std::int64_t>(), text,
      membership.empty() ? std::optional<std::string>() : std::optional(membership),
      event.txn ? std::optional(event.txn->device_id) : std::nullopt,
      event.txn ? std::optional(event.txn->txn_id) : std::nullopt,
      event_sql_content(event.type, event.state_key.has_value(), pdu["content"]));
  tx.exec("DELETE FROM room_forward_extremities WHERE room_id = $1", room.room_id);
  tx.exec("INSERT INTO room_forward_extremities (room_id, event_id) VALUES ($1, $2)", room.room_id,
          event_id);
  if (event.state_key) {
    tx.exec(
        "INSERT INTO current_state (room_id, type, state_key, event_id, stream_ordering) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (room_id, type, state_key) "
        "DO UPDATE SET event_id = EXCLUDED.event_id, stream_ordering = EXCLUDED.stream_ordering",
        room.room_id, event.type, *event.state_key, event_id, stream);
  }
  if (!membership.empty()) {
    tx.exec(
        "INSERT INTO room_memberships (user_id, room_id, membership, event_id, stream_ordering) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, room_id) DO UPDATE SET "
        "membership = EXCLUDED.membership, event_id = EXCLUDED.event_id, "
        "stream_ordering = EXCLUDED.stream_ordering, forgotten = false",
        *event.state_key, room.room_id, membership, event_id, stream);
    wake_keys.push_back(notify::user_key(*event.state_key));
  }
  if (target) {
    // Redact in place: the stored PDU keeps exactly what the room version's
    // redaction algorithm keeps (hashes and signatures stay valid for it).
    nlohmann::json redacted = matrix::redact_event(target->pdu, *version);
    const nlohmann::json kept = redacted.value("content", nlohmann::json::object());
    tx.exec(
        "UPDATE events SET pdu = $1, redacted_by = $2, sql_content = $4::jsonb "
        "WHERE event_id = $3",
        matrix::canonical_json(redacted), event_id, target->event_id,
        event_sql_content(target->type(), target->pdu.contains("state_key"), kept));
  }
  if (event.txn) {
    tx.exec(
        "INSERT INTO event_transactions (user_id, device_id, endpoint, txn_id, room_id, event_id) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        event.sender, event.txn->device_id, event.txn->endpoint, event.txn->txn_id, room.room_id,
        event_id);
  }
  wake_keys.push_back(notify::room_key(room.room_id));
  return {event_id, stream};
}

std::optional<nlohmann::json> RoomServiceImpl::current_state_event(const std::string& room_id,
                                                                   const std::string& type,
                                                                   const std::string& state_key) {
  return db_.read([&](storage::Transaction& tx) -> std::optional<nlohmann::json> {
    auto event = rooms::current_state_event(tx, room_id, type, state_key);
    if (!event) return std::nullopt;
    return client_event(*event, "", "", now_ms());
  });
}

std::vector<std::string> RoomServiceImpl::joined_rooms(const std::string& user_id) {
  return db_.read([&](storage::Transaction& tx) {
    std::vector<std::string> rooms;
    for (const auto& row :
         tx.exec("SELECT room_id FROM room_memberships WHERE user_id = $1 AND membership = 'join' "
                 "ORDER BY room_id",
                 user_id)) {
      rooms.push_back(row[0].as<std::string>());
    }
    return rooms;
  });
}

}  // namespace eltrix::rooms
