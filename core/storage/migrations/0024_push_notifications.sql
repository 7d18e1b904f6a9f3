-- Push notifications (spec: "Push Notifications", GET /notifications and the
-- push gateway's /_matrix/push/v1/notify). docs/decisions.md D49.

-- How far the notification evaluator has read the events stream: one row.
-- A batch moves it only from the position it started at (compare and set);
-- the node that moved it last holds a lease on the batches until
-- lease_until_ms, so one node at a time evaluates and any node can take
-- over. It starts at the stream's bound when the migration runs: events
-- from before the upgrade do not push.
CREATE TABLE push_progress (
  id smallint PRIMARY KEY CHECK (id = 1),
  stream_position bigint NOT NULL,
  lease_owner text NOT NULL DEFAULT '',
  lease_until_ms bigint NOT NULL DEFAULT 0
);
INSERT INTO push_progress (id, stream_position)
  VALUES (1, pg_snapshot_xmin(pg_current_snapshot())::text::bigint * 65536 - 1);

-- Events that notify a local user: what GET /notifications lists and the
-- push gateway's unread counts read.
CREATE TABLE notifications (
  user_id text NOT NULL,
  stream_ordering bigint NOT NULL,
  event_id text NOT NULL,
  room_id text NOT NULL,
  actions jsonb NOT NULL,
  highlight boolean NOT NULL,
  ts bigint NOT NULL,
  PRIMARY KEY (user_id, stream_ordering)
);
-- Unread counts: a user's notifications in one room after their receipt.
CREATE INDEX notifications_user_room ON notifications (user_id, room_id, stream_ordering);
-- Purging a room (admin API) removes its notifications.
CREATE INDEX notifications_room ON notifications (room_id);
-- Notifications older than the retention (30 days) are pruned a few at a
-- time by the evaluator's batches.
CREATE INDEX notifications_ts ON notifications (ts);

-- Pushes still to deliver, one per notification and http pusher. The sender
-- claims due rows by moving due_ts forward (a lease) and deletes a row once
-- the gateway took it; a failure moves due_ts by an exponential backoff.
CREATE TABLE push_queue (
  user_id text NOT NULL,
  app_id text NOT NULL,
  pushkey text NOT NULL,
  stream_ordering bigint NOT NULL,
  event_id text NOT NULL,
  room_id text NOT NULL,
  tweaks jsonb NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  due_ts bigint NOT NULL,
  created_ts bigint NOT NULL,
  PRIMARY KEY (user_id, app_id, pushkey, stream_ordering),
  FOREIGN KEY (user_id, app_id, pushkey) REFERENCES pushers (user_id, app_id, pushkey)
    ON DELETE CASCADE
);
CREATE INDEX push_queue_due ON push_queue (due_ts);
-- Purging a room removes its pushes still queued.
CREATE INDEX push_queue_room ON push_queue (room_id);
