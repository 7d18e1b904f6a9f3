// Per-user data of the Client-Server API (migration 0004): filters, account
// data, receipts, presence and profiles. Every function runs inside the
// caller's transaction. Writers that a sync must see advance the shared
// stream (stream.h) and stamp their rows with the new position; readers take
// a window (from, to] of positions.
#pragma once

#include "storage/database.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::storage {

/// A PostgreSQL text[] literal, for a parameter used as $n::text[].
std::string text_array(const std::vector<std::string>& values);

// ---- Filters -------------------------------------------------------------------

/// Stores `filter_json` (the filter's serialised JSON) for `user_id` and
/// returns its ID; the same text stored again by the same user returns the
/// first ID.
std::int64_t store_filter(Transaction& tx, std::string_view user_id, std::string_view filter_json);
/// The filter's JSON text, if `user_id` stored one with this ID.
std::optional<std::string> find_filter(Transaction& tx, std::string_view user_id,
                                       std::int64_t filter_id);

// ---- Account data --------------------------------------------------------------

/// room_id "" is the global account data.
struct AccountData {
  std::string room_id;
  std::string type;
  std::string content;  ///< a JSON object's text
  std::int64_t position = 0;
};

/// Serialises read-modify-write updates of one user's data in one room (or
/// the global data: room_id "") until the transaction ends (a
/// transaction-scoped advisory lock, safe behind PgBouncer).
void lock_account_data(Transaction& tx, std::string_view user_id, std::string_view room_id);

/// Inserts or replaces the data, stamped with a new stream position (returned).
std::int64_t put_account_data(Transaction& tx, std::string_view user_id, std::string_view room_id,
                              std::string_view type, std::string_view content);
std::optional<std::string> get_account_data(Transaction& tx, std::string_view user_id,
                                            std::string_view room_id, std::string_view type);
/// Global account data changed in (from, to], oldest first, at most `limit`.
std::vector<AccountData> global_account_data_between(Transaction& tx, std::string_view user_id,
                                                     std::int64_t from, std::int64_t to,
                                                     std::size_t limit);
/// Room account data of `room_ids` changed in (from, to], oldest first, at
/// most `limit` in all.
std::vector<AccountData> room_account_data_between(Transaction& tx, std::string_view user_id,
                                                   const std::vector<std::string>& room_ids,
                                                   std::int64_t from, std::int64_t to,
                                                   std::size_t limit);

// ---- Rooms as this area needs them ---------------------------------------------

// (The user's membership: storage::membership_of() in storage/directory.h.)

/// The stream_ordering of `event_id` if it is an event of `room_id`.
std::optional<std::int64_t> event_stream_in_room(Transaction& tx, std::string_view room_id,
                                                 std::string_view event_id);

// ---- Receipts ------------------------------------------------------------------

struct Receipt {
  std::string room_id;
  std::string user_id;
  std::string receipt_type;  ///< m.read or m.read.private
  std::string thread_id;     ///< "" for an unthreaded receipt
  std::string event_id;
  std::int64_t ts = 0;
  std::int64_t position = 0;
};

/// Stores the receipt unless the user's receipt of that type and thread
/// already points at the same or a later event (receipts only move forward).
/// Returns the new stream position, or nullopt when nothing changed.
std::optional<std::int64_t> put_receipt(Transaction& tx, const Receipt& receipt,
                                        std::int64_t event_stream);
/// Receipts in `room_ids` stamped in (from, to], newest first, at most
/// `per_room_limit` per room. m.read.private receipts only of `viewer`.
std::vector<Receipt> receipts_between(Transaction& tx, const std::vector<std::string>& room_ids,
                                      std::string_view viewer, std::int64_t from, std::int64_t to,
                                      std::size_t per_room_limit);
/// The stream_ordering of the furthest event `user_id` has read in the room
/// (m.read or m.read.private, unthreaded or main timeline), 0 if none.
std::int64_t read_up_to(Transaction& tx, std::string_view room_id, std::string_view user_id);

// ---- Presence ------------------------------------------------------------------

struct Presence {
  std::string user_id;
  std::string state;  ///< online, unavailable, offline
  std::optional<std::string> status_msg;
  std::int64_t last_active_ts = 0;
  std::optional<std::int64_t> last_sync_ts;
  std::int64_t position = 0;
  /// The node whose client last refreshed it (cluster/node_registry.h).
  std::optional<std::string> node_id;
};

std::optional<Presence> get_presence(Transaction& tx, std::string_view user_id);
/// Sets state and status message, stamped with a new stream position
/// (returned); last_active_ts and last_sync_ts (when given) are stored too.
std::int64_t put_presence(Transaction& tx, std::string_view user_id, std::string_view state,
                          const std::optional<std::string>& status_msg, std::int64_t last_active_ts,
                          std::optional<std::int64_t> last_sync_ts);
/// Refreshes the activity timestamps without a new stream position (what
/// others see does not change).
void touch_presence(Transaction& tx, std::string_view user_id, std::int64_t last_active_ts,
                    std::optional<std::int64_t> last_sync_ts);
/// Re-stamps the user's presence row (if any) with a new stream position so
/// syncs send it again (after a profile change). Returns the position.
std::optional<std::int64_t> restamp_presence(Transaction& tx, std::string_view user_id);
/// Presence of the members of `room_ids` (joined) and of `user_id` itself,
/// stamped in (from, to], newest first, at most `limit`. With from == 0
/// (an initial sync) offline users are left out.
std::vector<Presence> presence_between(Transaction& tx, std::string_view user_id,
                                       const std::vector<std::string>& room_ids, std::int64_t from,
                                       std::int64_t to, std::size_t limit);
/// Marks users offline whose last sync is older than `sync_before_ts` (at
/// most `limit` per call); returns them. One stream position for the batch.
std::vector<std::string> expire_presence(Transaction& tx, std::int64_t sync_before_ts,
                                         std::size_t limit);

// ---- Profiles ------------------------------------------------------------------

struct Profile {
  std::optional<std::string> displayname;
  std::optional<std::string> avatar_url;
};

/// The profile of a local user; nullopt when there is no such user.
std::optional<Profile> get_profile(Transaction& tx, std::string_view user_id);
/// Sets one field (nullopt clears it); false when there is no such user.
bool set_displayname(Transaction& tx, std::string_view user_id,
                     const std::optional<std::string>& displayname);
bool set_avatar_url(Transaction& tx, std::string_view user_id,
                    const std::optional<std::string>& avatar_url);
/// Profiles of the local users among `user_ids`.
std::map<std::string, Profile> profiles_of(Transaction& tx,
                                           const std::vector<std::string>& user_ids);

// ---- Unread counts -------------------------------------------------------------

struct UnreadCounts {
  std::int64_t notifications = 0;
  std::int64_t highlights = 0;
};

/// Per room: the events after the user's read receipt (read_up_to()) and
/// after their own latest event, up to stream position `to`, that notify:
/// messages, encrypted events and stickers by others, not redacted. Only the
/// newest `cap` events after the receipt are looked at. Highlights: those
/// whose body matches `mention_regex` (PostgreSQL ~*, "" for none) or whose
/// content["m.mentions"]["user_ids"] holds the user.
std::map<std::string, UnreadCounts> unread_counts(Transaction& tx, std::string_view user_id,
                                                  const std::vector<std::string>& room_ids,
                                                  std::int64_t to, std::string_view mention_regex,
                                                  std::size_t cap);

}  // namespace eltrix::storage
