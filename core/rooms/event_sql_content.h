// events.sql_content: the parts of an event's content that SQL filters and
// lists read (publicRooms, the user directory, unread highlights), as text
// that PostgreSQL's jsonb always accepts.
//
// The stored PDU (events.pdu, text) is the record and is what clients and
// servers get; it may hold any valid JSON, including the escape \u0000, which
// jsonb refuses. Queries therefore never cast events.pdu to jsonb: one such
// event would fail the statement for everyone whose scan touched it. They
// read events.sql_content instead, where every NUL is replaced by U+FFFD.
// (docs/decisions.md, "events.sql_content".)
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace eltrix::rooms {

/// The events.sql_content text for an event of `type` with `content`
/// (is_state: it has a state_key), or nullopt for NULL. State events keep
/// their whole content; m.room.message, m.sticker and m.room.encrypted keep
/// "body" and "m.mentions" when present; other events keep nothing. The
/// backfill in migration 0008 applies the same rules.
std::optional<std::string> event_sql_content(std::string_view type, bool is_state,
                                             const nlohmann::json& content);

/// `value` with every NUL in its strings and object keys replaced by U+FFFD.
nlohmann::json without_nul(const nlohmann::json& value);

}  // namespace eltrix::rooms
