#include "storage/push_notifications.h"

#include "storage/user_data.h"

namespace eltrix::storage {

PushProgress get_push_progress(Transaction& tx) {
  auto row = tx.exec1(
      "SELECT stream_position, lease_owner, lease_until_ms FROM push_progress WHERE id = 1");
  return {.position = row[0].as<std::int64_t>(),
          .owner = row[1].as<std::string>(),
          .lease_until_ms = row[2].as<std::int64_t>()};
}

bool advance_push_progress(Transaction& tx, const PushProgress& from, std::int64_t position,
                           const std::string& owner, std::int64_t lease_until_ms,
                           std::int64_t now_ms) {
  // Under READ COMMITTED a concurrent update of the row makes this one
  // re-check the WHERE against the new row: the second of two racing nodes
  // updates nothing.
  return tx.exec0(
             "UPDATE push_progress SET stream_position = $2, lease_owner = $3, "
             "lease_until_ms = $4 WHERE id = 1 AND stream_position = $1 "
             "AND (lease_owner = $3 OR lease_until_ms < $5)",
             from.position, position, owner, lease_until_ms, now_ms) == 1;
}

void add_notifications(Transaction& tx, const std::vector<NewNotification>& batch) {
  if (batch.empty()) return;
  std::vector<std::string> users, streams, events, rooms, actions, highlights, times, tweaks;
  for (const auto& [n, t] : batch) {
    users.push_back(n.user_id);
    streams.push_back(std::to_string(n.stream));
    events.push_back(n.event_id);
    rooms.push_back(n.room_id);
    actions.push_back(n.actions);
    highlights.emplace_back(n.highlight ? "t" : "f");
    times.push_back(std::to_string(n.ts));
    tweaks.push_back(t);
  }
  // Only the notifications this statement added queue pushes (RETURNING):
  // one recorded before already has its pushes. Email pushers are not sent
  // from here (no mailer yet): only http ones.
  tx.exec(
      "WITH input AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], "
      "  $5::jsonb[], $6::boolean[], $7::bigint[], $8::jsonb[]) "
      "  AS i(user_id, stream_ordering, event_id, room_id, actions, highlight, ts, tweaks)), "
      "added AS (INSERT INTO notifications (user_id, stream_ordering, event_id, room_id, "
      "  actions, highlight, ts) SELECT user_id, stream_ordering, event_id, room_id, actions, "
      "  highlight, ts FROM input ON CONFLICT DO NOTHING RETURNING user_id, stream_ordering) "
      "INSERT INTO push_queue (user_id, app_id, pushkey, stream_ordering, event_id, room_id, "
      "  tweaks, due_ts, created_ts) "
      "SELECT i.user_id, p.app_id, p.pushkey, i.stream_ordering, i.event_id, i.room_id, "
      "  i.tweaks, i.ts, i.ts FROM added a "
      "JOIN input i ON i.user_id = a.user_id AND i.stream_ordering = a.stream_ordering "
      "JOIN pushers p ON p.user_id = i.user_id AND p.kind = 'http' ON CONFLICT DO NOTHING",
      text_array(users), text_array(streams), text_array(events), text_array(rooms),
      text_array(actions), text_array(highlights), text_array(times), text_array(tweaks));
}

std::size_t prune_notifications(Transaction& tx, std::int64_t before_ts, std::size_t limit) {
  return tx.exec0(
      "DELETE FROM notifications WHERE (user_id, stream_ordering) IN (SELECT user_id, "
      "stream_ordering FROM notifications WHERE ts < $1 LIMIT $2)",
      before_ts, static_cast<std::int64_t>(limit));
}

std::vector<Notification> list_notifications(Transaction& tx, const std::string& user_id,
                                             std::int64_t before, std::size_t limit,
                                             bool only_highlight) {
  std::vector<Notification> out;
  for (const auto& row :
       tx.exec("SELECT stream_ordering, event_id, room_id, actions::text, highlight, ts "
               "FROM notifications WHERE user_id = $1 AND stream_ordering < $2 "
               "AND (highlight OR NOT $3) ORDER BY stream_ordering DESC LIMIT $4",
               user_id, before, only_highlight, static_cast<std::int64_t>(limit))) {
    out.push_back({.user_id = user_id,
                   .stream = row[0].as<std::int64_t>(),
                   .event_id = row[1].as<std::string>(),
                   .room_id = row[2].as<std::string>(),
                   .actions = row[3].as<std::string>(),
                   .highlight = row[4].as<bool>(),
                   .ts = row[5].as<std::int64_t>()});
  }
  return out;
}

std::optional<std::int64_t> read_up_to(Transaction& tx, const std::string& user_id,
                                       const std::string& room_id) {
  auto row = tx.exec1(
      "SELECT max(event_stream) FROM receipts WHERE room_id = $1 AND user_id = $2 "
      "AND receipt_type IN ('m.read', 'm.read.private')",
      room_id, user_id);
  return nullable<std::int64_t>(row[0]);
}

std::int64_t unread_notifications(Transaction& tx, const std::string& user_id,
                                  const std::string& room_id) {
  return tx
      .exec1(
          "SELECT count(*) FROM notifications WHERE user_id = $1 AND room_id = $2 "
          "AND stream_ordering > coalesce((SELECT max(event_stream) FROM receipts "
          "WHERE room_id = $2 AND user_id = $1 AND receipt_type IN ('m.read', 'm.read.private')), "
          "-9223372036854775808)",
          user_id, room_id)[0]
      .as<std::int64_t>();
}

bool any_push_due(Transaction& tx, std::int64_t now_ms) {
  return tx.exec_optional("SELECT 1 FROM push_queue WHERE due_ts <= $1 LIMIT 1", now_ms)
      .has_value();
}

std::vector<QueuedPush> claim_pushes(Transaction& tx, std::int64_t now_ms,
                                     std::int64_t lease_until_ms, std::size_t limit) {
  std::vector<QueuedPush> out;
  for (const auto& row : tx.exec(
           "WITH due AS (SELECT user_id, app_id, pushkey, stream_ordering FROM push_queue "
           "WHERE due_ts <= $1 ORDER BY due_ts LIMIT $3 FOR UPDATE SKIP LOCKED) "
           "UPDATE push_queue q SET attempts = q.attempts + 1, due_ts = $2 FROM due, pushers p "
           "WHERE q.user_id = due.user_id AND q.app_id = due.app_id AND q.pushkey = due.pushkey "
           "AND q.stream_ordering = due.stream_ordering AND p.user_id = q.user_id "
           "AND p.app_id = q.app_id AND p.pushkey = q.pushkey "
           "RETURNING q.user_id, q.app_id, q.pushkey, q.stream_ordering, q.event_id, q.room_id, "
           "q.tweaks::text, q.attempts, q.created_ts, p.data::text, p.created_ts",
           now_ms, lease_until_ms, static_cast<std::int64_t>(limit))) {
    out.push_back({.user_id = row[0].as<std::string>(),
                   .app_id = row[1].as<std::string>(),
                   .pushkey = row[2].as<std::string>(),
                   .stream = row[3].as<std::int64_t>(),
                   .event_id = row[4].as<std::string>(),
                   .room_id = row[5].as<std::string>(),
                   .tweaks = row[6].as<std::string>(),
                   .attempts = row[7].as<int>(),
                   .created_ts = row[8].as<std::int64_t>(),
                   .pusher_data = row[9].as<std::string>(),
                   .pushkey_ts = row[10].as<std::int64_t>()});
  }
  return out;
}

void delete_push(Transaction& tx, const QueuedPush& push) {
  tx.exec(
      "DELETE FROM push_queue WHERE user_id = $1 AND app_id = $2 AND pushkey = $3 "
      "AND stream_ordering = $4",
      push.user_id, push.app_id, push.pushkey, push.stream);
}

void retry_push(Transaction& tx, const QueuedPush& push, std::int64_t due_ms) {
  tx.exec(
      "UPDATE push_queue SET due_ts = $5 WHERE user_id = $1 AND app_id = $2 AND pushkey = $3 "
      "AND stream_ordering = $4",
      push.user_id, push.app_id, push.pushkey, push.stream, due_ms);
}

std::size_t delete_rejected_pushers(Transaction& tx, const std::string& app_id,
                                    const std::vector<std::string>& pushkeys) {
  std::size_t removed = 0;
  for (const auto& key : pushkeys) {
    removed += tx.exec0("DELETE FROM pushers WHERE app_id = $1 AND pushkey = $2", app_id, key);
  }
  return removed;
}

}  // namespace eltrix::storage
