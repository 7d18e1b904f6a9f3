// Notifications and the push queue (migration 0024, docs/decisions.md D49):
// what the evaluator (services/push_evaluation.h) writes, GET /notifications
// lists and the sender (services/push_sender.h) delivers. Every function
// runs inside the caller's transaction.
#pragma once

#include "storage/database.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eltrix::storage {

/// The evaluator's saved stream position and who holds its lease.
struct PushProgress {
  std::int64_t position = 0;
  std::string owner;  ///< "" before any batch
  std::int64_t lease_until_ms = 0;
};
PushProgress get_push_progress(Transaction& tx);

/// Moves the position from `from.position` to `position` and gives `owner`
/// the lease until `lease_until_ms`, if the position is still
/// `from.position` and the lease is `owner`'s or lapsed at `now_ms`
/// (compare and set).
/// Returns whether it did.
bool advance_push_progress(Transaction& tx, const PushProgress& from, std::int64_t position,
                           const std::string& owner, std::int64_t lease_until_ms,
                           std::int64_t now_ms);

struct Notification {
  std::string user_id;
  std::int64_t stream = 0;
  std::string event_id;
  std::string room_id;
  std::string actions;  ///< a JSON array's text
  bool highlight = false;
  std::int64_t ts = 0;
};

/// A notification to record, and the tweaks (a JSON object's text) its
/// pushes carry.
struct NewNotification {
  Notification notification;
  std::string tweaks;
};

/// Records the notifications (one already recorded: no-op) and queues one
/// push per http pusher of each user, due at the notification's ts. One
/// statement for the whole batch: the evaluator's write transaction holds
/// the stream bound (stream.h) while it runs, so it must stay short.
void add_notifications(Transaction& tx, const std::vector<NewNotification>& batch);

/// Deletes at most `limit` notifications recorded before `before_ts`;
/// returns how many went.
std::size_t prune_notifications(Transaction& tx, std::int64_t before_ts, std::size_t limit);

/// The user's notifications before stream position `before` (newest first),
/// at most `limit`, only highlights when `only_highlight`.
std::vector<Notification> list_notifications(Transaction& tx, const std::string& user_id,
                                             std::int64_t before, std::size_t limit,
                                             bool only_highlight);

/// The stream position of the event the user's read receipt (public or
/// private, main timeline or any thread) points at in the room; nullopt: none.
std::optional<std::int64_t> read_up_to(Transaction& tx, const std::string& user_id,
                                       const std::string& room_id);

/// The user's notifications in the room after their read receipt.
std::int64_t unread_notifications(Transaction& tx, const std::string& user_id,
                                  const std::string& room_id);

struct QueuedPush {
  std::string user_id;
  std::string app_id;
  std::string pushkey;
  std::int64_t stream = 0;
  std::string event_id;
  std::string room_id;
  std::string tweaks;  ///< a JSON object's text
  int attempts = 0;    ///< including the one being made
  std::int64_t created_ts = 0;
  std::string pusher_data;  ///< the pusher's data (a JSON object's text)
  std::optional<std::int64_t> pushkey_ts;
};

/// Whether any push is due at `now_ms`: a read, so an idle sender writes
/// nothing (each write moves the primary's WAL position, which a replica
/// must then replay before it may serve reads that ask for it).
bool any_push_due(Transaction& tx, std::int64_t now_ms);

/// Claims up to `limit` pushes due at `now_ms` (SKIP LOCKED: several nodes
/// may send), counting the attempt and moving their due time to
/// `lease_until_ms`, so a node that dies while sending leaves them to be
/// retried then.
std::vector<QueuedPush> claim_pushes(Transaction& tx, std::int64_t now_ms,
                                     std::int64_t lease_until_ms, std::size_t limit);
/// The push is delivered, or given up.
void delete_push(Transaction& tx, const QueuedPush& push);
/// The push is tried again at `due_ms`.
void retry_push(Transaction& tx, const QueuedPush& push, std::int64_t due_ms);
/// Removes the pushers of the app with these pushkeys (the gateway rejected
/// them); returns how many went.
std::size_t delete_rejected_pushers(Transaction& tx, const std::string& app_id,
                                    const std::vector<std::string>& pushkeys);

}  // namespace eltrix::storage
