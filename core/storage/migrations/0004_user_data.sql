-- Per-user data of the Client-Server API: filters, account data (tags and
-- the fully-read marker included), read receipts and presence. Every row a
-- sync must see carries the stream position (stream_head, 0002) of the
-- transaction that wrote it.

-- Uploaded sync filters. They never change once stored, so a filter ID stays
-- valid for good; identical uploads by one user share one ID (clients upload
-- the same filter at every start).
CREATE TABLE user_filters (
  filter_id bigserial PRIMARY KEY,
  user_id text NOT NULL,
  filter_json text NOT NULL
);
CREATE UNIQUE INDEX user_filters_user_json ON user_filters (user_id, md5(filter_json));

-- Account data: global (room_id '') or per room. m.tag and m.fully_read live
-- here too, as room account data.
CREATE TABLE account_data (
  user_id text NOT NULL,
  room_id text NOT NULL,
  type text NOT NULL,
  content text NOT NULL,
  stream_position bigint NOT NULL,
  PRIMARY KEY (user_id, room_id, type)
);
CREATE INDEX account_data_user_stream ON account_data (user_id, stream_position);

-- The latest receipt per (room, user, type, thread); thread_id '' is an
-- unthreaded receipt. event_stream is the receipted event's stream_ordering,
-- so a receipt never moves backwards and unread counts start after it.
CREATE TABLE receipts (
  room_id text NOT NULL,
  user_id text NOT NULL,
  receipt_type text NOT NULL,
  thread_id text NOT NULL,
  event_id text NOT NULL,
  event_stream bigint NOT NULL,
  ts bigint NOT NULL,
  stream_position bigint NOT NULL,
  PRIMARY KEY (room_id, user_id, receipt_type, thread_id)
);
CREATE INDEX receipts_room_stream ON receipts (room_id, stream_position);

-- Presence per user. stream_position changes only when what others see
-- changes (state, status message, profile); last_active_ts and
-- last_sync_ts are refreshed without it, since last_active_ago is computed
-- when presence is read.
CREATE TABLE presence (
  user_id text PRIMARY KEY,
  state text NOT NULL CHECK (state IN ('online', 'unavailable', 'offline')),
  status_msg text,
  last_active_ts bigint NOT NULL,
  last_sync_ts bigint,
  stream_position bigint NOT NULL
);
CREATE INDEX presence_stream ON presence (stream_position);
-- The idle sweep looks for users still marked present.
CREATE INDEX presence_present ON presence (last_sync_ts) WHERE state <> 'offline';
