// The parts of a /sync response that come from per-user and ephemeral data:
// account data (global and per room, m.tag and m.fully_read included),
// receipts, typing, presence and unread notification counts.
//
// Every function reads the window (from, to] of stream positions
// (storage/stream.h): from = 0 is an initial sync, which gets the current
// data instead of the changes. All run inside the caller's (read)
// transaction, so one sync sees one consistent snapshot.
//
// Each is defined in its section's file (sync/<section>_provider.cpp;
// unread counts in sync/unread_notifications.cpp), whose provider decides
// when it runs and where its result goes in the response.
#pragma once

#include "sync/filter.h"
#include "sync/sync_deps.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace eltrix::storage {
class Transaction;
}

namespace eltrix::sync {

/// Bounds on what one sync sends (the spec asks servers to bound filters'
/// limits; these also apply when a filter gives none).
inline constexpr std::size_t kMaxAccountDataEvents = 10000;
inline constexpr std::size_t kMaxReceiptsPerRoom = 1000;
inline constexpr std::size_t kMaxPresenceEvents = 500;
/// Unread counts stop at this many events (clients show "99+" long before).
inline constexpr std::size_t kMaxUnreadCounted = 1000;

/// The top-level "account_data": {"events": [{"type", "content"}, ...]},
/// oldest change first, filtered by filter.account_data.
nlohmann::json global_account_data(storage::Transaction& tx, const std::string& user_id,
                                   std::int64_t from, std::int64_t to, const Filter& filter);

/// Per room in `room_ids` with changes in the window: the room's
/// "account_data" {"events": [...]} (m.tag, m.fully_read and the rest),
/// filtered by filter.room (rooms) and filter.room.account_data. Rooms
/// without changes are absent.
std::map<std::string, nlohmann::json> room_account_data(storage::Transaction& tx,
                                                        const std::string& user_id,
                                                        const std::vector<std::string>& room_ids,
                                                        std::int64_t from, std::int64_t to,
                                                        const Filter& filter = {});

/// Per room with receipts stamped in the window: the m.receipt ephemeral
/// event {"type": "m.receipt", "content": {event_id: {receipt_type: {user:
/// {"ts", "thread_id"?}}}}}. m.read.private receipts appear only for their
/// own user. Absent for rooms the filter excludes (filter.room rooms,
/// filter.room.ephemeral rooms and types).
std::map<std::string, nlohmann::json> room_receipts(storage::Transaction& tx,
                                                    const std::string& user_id,
                                                    const std::vector<std::string>& room_ids,
                                                    std::int64_t from, std::int64_t to,
                                                    const Filter& filter = {});

/// The m.typing ephemeral event {"type": "m.typing", "content": {"user_ids":
/// [...]}} when the room's typing list changed after `since_serial`
/// (TypingSource::serial() of the previous sync; 0 for an initial sync, which
/// gets it only when someone is typing). nullopt when unchanged or filtered out.
std::optional<nlohmann::json> room_typing(TypingSource& typing, const std::string& room_id,
                                          std::uint64_t since_serial, const Filter& filter = {});

/// The top-level "presence": {"events": [{"type": "m.presence", "sender",
/// "content"}, ...]} for the user and everyone joined to one of `room_ids`
/// whose presence changed in the window (initial sync: everyone not offline),
/// with displayname and avatar_url; filtered by filter.presence, newest first
/// up to its limit (at most kMaxPresenceEvents).
nlohmann::json presence(storage::Transaction& tx, const std::string& user_id,
                        const std::vector<std::string>& room_ids, std::int64_t from,
                        std::int64_t to, const Filter& filter = {});

/// Per room: {"notification_count", "highlight_count"} counted over the
/// events after the user's read receipt (m.read or m.read.private, the
/// further one) and after the user's own latest event, up to `to`. Counted:
/// messages, encrypted events and stickers by others, not redacted.
/// Highlights: a body mentioning the user's localpart or display name as a
/// word, or m.mentions naming the user. Each count stops at kMaxUnreadCounted.
std::map<std::string, nlohmann::json> unread_notifications(storage::Transaction& tx,
                                                           const std::string& user_id,
                                                           const std::vector<std::string>& room_ids,
                                                           std::int64_t to);

/// The PostgreSQL regular expression (for ~*) matching `words` as whole
/// words; "" when there are none. Exposed for tests.
std::string mention_pattern(const std::vector<std::string>& words);

}  // namespace eltrix::sync
