#include "rooms/event_check.h"

#include "errors/error.h"
#include "matrix/auth_rules.h"
#include "matrix/canonical_json.h"
#include "matrix/event_hash.h"
#include "matrix/ids.h"
#include "matrix/power_levels.h"
#include "matrix/redaction.h"
#include "matrix/signing.h"
#include "storage/directory.h"

#include <fmt/format.h>

namespace eltrix::rooms {

namespace {

Outcome forbidden(std::string why) {
  return Outcome::rejected(Rejection::forbidden, std::move(why));
}

std::string server_of(const std::string& user_id) {
  auto parsed = matrix::parse_user_id(user_id);
  return parsed ? parsed->server : std::string();
}

/// Spec "Validating hashes and signatures on received events": the sending
/// server's signature over the redacted event must verify; a content hash
/// that does not match means the content was altered: keep the redacted form.
Outcome check_signatures_and_hash(PendingEvent& event, const KeyRing& keys) {
  const std::string server = server_of(event.sender);
  const nlohmann::json redacted = matrix::redact_event(event.pdu, *event.version);
  bool verified = false;
  auto signatures = event.pdu.find("signatures");
  if (signatures != event.pdu.end() && signatures->is_object()) {
    auto mine = signatures->find(server);
    if (mine != signatures->end() && mine->is_object()) {
      const auto sent = event.pdu.value("origin_server_ts", nlohmann::json(0));
      const std::int64_t sent_ts = sent.is_number_integer() ? sent.get<std::int64_t>() : 0;
      for (const auto& [key_id, ignored] : mine->items()) {
        auto key = keys.find(server, key_id);
        if (!key || (key->expired_ts && sent_ts >= *key->expired_ts)) continue;
        if (matrix::verify_json(redacted, server, key_id, key->base64)) {
          verified = true;
          break;
        }
      }
    }
  }
  if (!verified) {
    return Outcome::rejected(Rejection::bad_signature,
                             "No valid signature of " + server + " on " + event.event_id);
  }
  std::string expected;
  try {
    expected = matrix::compute_content_hash(event.pdu);
  } catch (const std::invalid_argument&) {
  }
  auto hashes = event.pdu.find("hashes");
  const bool matches = hashes != event.pdu.end() && hashes->is_object() &&
                       hashes->value("sha256", nlohmann::json()) == expected && !expected.empty();
  if (!matches) {
    event.pdu = redacted;
    event.text = matrix::canonical_json(event.pdu);
  }
  return Outcome::accepted();
}

/// The events named, as the rules read them (v4+ PDUs carry no event_id).
matrix::AuthState auth_state_of(const std::vector<StoredEvent>& events) {
  matrix::AuthState state;
  for (const auto& stored : events) {
    nlohmann::json with_id = stored.pdu;
    with_id["event_id"] = stored.event_id;
    state.put(with_id);
  }
  return state;
}

/// The state events the rules would pick for `event` from the state of `group`.
std::vector<StoredEvent> auth_candidates(storage::Transaction& tx, const PendingEvent& event,
                                         const StateMap* merged, StateGroup group) {
  std::vector<StoredEvent> out;
  for (const auto& [type, state_key] : matrix::auth_event_keys(event.pdu)) {
    if (merged != nullptr) {
      auto it = merged->find({type, state_key});
      if (it == merged->end()) continue;
      if (auto stored = load_event(tx, it->second)) out.push_back(std::move(*stored));
    } else if (auto stored = state_event_of(tx, group, type, state_key)) {
      out.push_back(std::move(*stored));
    }
  }
  return out;
}

/// Redactions: the rules admit any redaction at auth time; applying one needs
/// the redact power level, or the sender redacting their own event.
Outcome check_redaction(storage::Transaction& tx, PendingEvent& event) {
  std::optional<std::string> redacts;
  if (auto it = event.pdu.find("redacts"); it != event.pdu.end() && it->is_string()) {
    redacts = it->get<std::string>();
  } else if (auto c = event.pdu.find("content"); c != event.pdu.end() && c->is_object()) {
    if (auto r = c->find("redacts"); r != c->end() && r->is_string())
      redacts = r->get<std::string>();
  }
  if (!redacts) return Outcome::accepted();
  auto target = load_event(tx, *redacts);
  if (!target || target->pdu.value("room_id", nlohmann::json()) != event.room.room_id) {
    // A remote redaction may arrive before its target: accepted, not applied.
    if (!event.local) return Outcome::accepted();
    // An event of another room is a client's mistake, not a missing event
    // (Synapse: 400 "Cannot redact event from a different room").
    if (target) {
      return Outcome::rejected(Rejection::other_room,
                               "Cannot redact event " + *redacts + " from a different room");
    }
    return Outcome::rejected(Rejection::not_found, "Unknown event " + *redacts);
  }
  if (target->sender() != event.sender) {
    auto levels_event = current_state_event(tx, event.room.room_id, "m.room.power_levels", "");
    auto levels = matrix::PowerLevels::parse(levels_event ? &levels_event->pdu["content"] : nullptr,
                                             event.room.creator);
    // Local users redact others' events only with the redact level; the
    // same-server rule is for remote servers redacting their own users'.
    const bool allowed =
        levels && (event.local ? levels->user_level(event.sender) >= levels->redact
                               : matrix::may_redact(event.sender, target->sender(), *levels));
    if (!allowed) {
      if (!event.local) return Outcome::accepted();
      return forbidden("You don't have permission to redact other users' events");
    }
  }
  event.redaction_target = std::move(target);
  return Outcome::accepted();
}

}  // namespace

Outcome check_event(storage::Transaction& tx, PendingEvent& event, const KeyRing& keys) {
  if (!event.local) {
    if (auto signed_ok = check_signatures_and_hash(event, keys); !signed_ok.is_accepted()) {
      return signed_ok;
    }
  }
  if (event.text.size() > kMaxPduBytes) {
    return Outcome::rejected(Rejection::too_large, fmt::format("Event is {} bytes; the limit is {}",
                                                               event.text.size(), kMaxPduBytes));
  }

  // 1. Against its own auth events, each of which must be in this room.
  std::vector<StoredEvent> named = event.auth_event_rows;
  if (named.empty() && !event.auth_events.empty()) {
    static const std::string sql =
        select_events("WHERE e.event_id = ANY($1::text[]) AND e.room_id = $2");
    named = read_events(tx.exec(sql, pg_text_array(event.auth_events), event.room.room_id));
  }
  if (named.size() != event.auth_events.size()) {
    return forbidden("Some of the event's auth_events are unknown in this room");
  }
  if (auto verdict = matrix::check_auth(event.pdu, auth_state_of(named), *event.version);
      !verdict) {
    return forbidden(verdict.reason);
  }

  // 2. Against the state before it (for a local event, its auth events were
  // picked from that state: the same check).
  if (!event.auth_events_are_state_before) {
    const auto before =
        auth_candidates(tx, event, event.state_before.single ? nullptr : &event.state_before.state,
                        event.state_before.group);
    if (auto verdict = matrix::check_auth(event.pdu, auth_state_of(before), *event.version);
        !verdict) {
      return forbidden(verdict.reason);
    }
  }

  if (auto redaction = check_redaction(tx, event); !redaction.is_accepted()) return redaction;

  // Only aliases of this room may be named canonical, whichever way the event
  // comes (PUT /state or createRoom's initial_state). After the auth check:
  // someone who may not set it learns nothing about which aliases exist.
  if (event.local && event.type == "m.room.canonical_alias" && event.state_key &&
      event.state_key->empty()) {
    try {
      storage::validate_canonical_alias(tx, event.room.room_id, event.pdu["content"]);
    } catch (const errors::Error& e) {
      return Outcome::rejected(
          e.errcode() == "M_BAD_ALIAS" ? Rejection::bad_alias : Rejection::bad_alias_syntax,
          e.what());
    }
  }

  // 3. A remote event against the current state: soft failure (stored, not
  // made current) rather than rejection (spec).
  if (!event.local) {
    std::vector<StoredEvent> current;
    for (const auto& [type, state_key] : matrix::auth_event_keys(event.pdu)) {
      if (auto stored = current_state_event(tx, event.room.room_id, type, state_key)) {
        current.push_back(std::move(*stored));
      }
    }
    if (auto verdict = matrix::check_auth(event.pdu, auth_state_of(current), *event.version);
        !verdict) {
      return Outcome::soft_failed(verdict.reason);
    }
  }
  return Outcome::accepted();
}

}  // namespace eltrix::rooms
