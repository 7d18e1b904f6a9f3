// Filters (spec: "Filtering"; the Filter, RoomFilter, RoomEventFilter and
// EventFilter schemas of POST /user/{userId}/filter). Parsed once, then
// applied by /sync, /messages and /context.
//
//   auto filter = sync::load_filter(ctx.db, who.user_id, req.query("filter"));
//   const auto& timeline = filter ? filter->room.timeline : sync::RoomEventFilter{};
//   if (timeline.matches(event)) ...
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::storage {
class Database;
class Transaction;
}  // namespace eltrix::storage

namespace eltrix::sync {

/// True when `value` matches `pattern`, where '*' stands for any sequence of
/// characters (possibly empty) and every other character only for itself.
bool glob_match(std::string_view pattern, std::string_view value);

/// EventFilter: which events of a non-room stream (presence, global account
/// data) to include. An absent include list includes everything; an exclude
/// list wins over the include list.
struct EventFilter {
  /// As given (>= 0); use limit_or() for the effective value.
  std::optional<std::int64_t> limit;
  std::optional<std::vector<std::string>> types;  ///< '*' wildcards
  std::vector<std::string> not_types;             ///< '*' wildcards
  std::optional<std::vector<std::string>> senders;
  std::vector<std::string> not_senders;

  [[nodiscard]] bool matches_type(std::string_view type) const;
  /// Sender lists do not apply to events without a sender (account data,
  /// typing, receipts): those always match here.
  [[nodiscard]] bool matches_sender(const std::optional<std::string_view>& sender) const;
  /// Type and sender checks on an event in client format ("type", "sender").
  [[nodiscard]] bool matches(const nlohmann::json& event) const;
  /// The limit, `fallback` when absent, and at most `max` (the spec asks
  /// servers to bound it).
  [[nodiscard]] std::size_t limit_or(std::size_t fallback, std::size_t max) const;
};

/// RoomEventFilter: EventFilter plus room lists, contains_url and the
/// lazy-loading switches (timeline, state, ephemeral, room account_data).
struct RoomEventFilter : EventFilter {
  std::optional<std::vector<std::string>> rooms;
  std::vector<std::string> not_rooms;
  /// true: only events whose content has a "url"; false: only those without.
  std::optional<bool> contains_url;
  bool lazy_load_members = false;
  bool include_redundant_members = false;
  bool unread_thread_notifications = false;

  [[nodiscard]] bool matches_room(std::string_view room_id) const;
  /// Type, sender, contains_url and, when the event carries a "room_id",
  /// the room lists.
  [[nodiscard]] bool matches(const nlohmann::json& event) const;
  /// As matches(event), for events in the sync format (no "room_id") of `room_id`.
  [[nodiscard]] bool matches(const nlohmann::json& event, std::string_view room_id) const;
};

/// RoomFilter: the room-level lists apply before the per-section filters.
struct RoomFilter {
  std::optional<std::vector<std::string>> rooms;
  std::vector<std::string> not_rooms;
  bool include_leave = false;
  RoomEventFilter timeline;
  RoomEventFilter state;
  RoomEventFilter ephemeral;
  RoomEventFilter account_data;

  [[nodiscard]] bool matches_room(std::string_view room_id) const;
};

enum class EventFormat { client, federation };

/// A whole sync filter. A default-constructed Filter includes everything.
struct Filter {
  /// Dot-separated paths ('\' escapes '.' and '\'); absent: all fields.
  std::optional<std::vector<std::string>> event_fields;
  EventFormat event_format = EventFormat::client;
  EventFilter presence;
  EventFilter account_data;
  RoomFilter room;

  /// `event` reduced to event_fields (unchanged when event_fields is absent).
  [[nodiscard]] nlohmann::json apply_event_fields(const nlohmann::json& event) const;
};

/// Validates `json` against the Filter schema and parses it. Unknown keys are
/// ignored (the spec lets filters grow); known keys of the wrong type, room
/// or user IDs that are not valid, and negative limits throw
/// errors::Error invalid M_BAD_JSON naming the field ("room.timeline.limit").
Filter parse_filter(const nlohmann::json& json);

/// Splits a dot-separated property path into its property names (spec
/// appendix "Dot-separated property paths").
std::vector<std::string> split_property_path(std::string_view path);

/// The largest filter body POST /user/{userId}/filter accepts (larger: 413
/// M_TOO_LARGE); a filter is a few hundred bytes in practice.
inline constexpr std::size_t kMaxFilterBytes = 64 * 1024;

/// Resolves the `filter` query parameter of /sync (and the like):
///  - absent or empty: nullopt (no filtering);
///  - starting with '{': inline JSON (400 M_NOT_JSON if it does not parse,
///    400 M_BAD_JSON if it is not a valid filter);
///  - otherwise the ID of a filter `user_id` uploaded (400 M_INVALID_PARAM
///    "No such filter" when there is none, as Synapse answers).
/// Stored filters never change, so the lookup reads a replica and falls back
/// to the primary when the replica has not replayed the upload yet.
std::optional<Filter> load_filter(storage::Database& db, const std::string& user_id,
                                  const std::optional<std::string>& param);

}  // namespace eltrix::sync
