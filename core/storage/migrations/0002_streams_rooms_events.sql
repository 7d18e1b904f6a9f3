-- One position for every persistent stream a sync reads (events, receipts,
-- account data, presence, ...). Writers advance it as the last statement of
-- their transaction (stream.h: advance_stream), which row-locks stream_head
-- until commit: positions therefore commit in order, and a reader that sees
-- head = P sees every row with position <= P, on the primary and on replicas.
CREATE TABLE stream_head (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  position bigint NOT NULL
);
INSERT INTO stream_head (id, position) VALUES (true, 0);

CREATE TABLE rooms (
  room_id text PRIMARY KEY,
  room_version text NOT NULL,
  creator text NOT NULL,
  -- room directory visibility (publicRooms)
  is_public boolean NOT NULL DEFAULT false,
  created_ts bigint NOT NULL
);

-- Every accepted event, in the form federation needs: the full signed PDU as
-- canonical JSON (redacted in place once a redaction is accepted).
CREATE TABLE events (
  stream_ordering bigint PRIMARY KEY,
  event_id text NOT NULL UNIQUE,
  room_id text NOT NULL REFERENCES rooms (room_id),
  type text NOT NULL,
  state_key text,
  sender text NOT NULL,
  depth bigint NOT NULL,
  origin_server_ts bigint NOT NULL,
  pdu text NOT NULL,
  -- for m.room.member: the membership it sets
  membership text,
  redacted_by text,
  -- the sending device's transaction, for unsigned.transaction_id
  txn_device_id text,
  txn_id text
);
CREATE INDEX events_room_stream ON events (room_id, stream_ordering);
CREATE INDEX events_room_state ON events (room_id, type, state_key, stream_ordering)
  WHERE state_key IS NOT NULL;

-- The newest events of a room: the next event's prev_events.
CREATE TABLE room_forward_extremities (
  room_id text NOT NULL REFERENCES rooms (room_id),
  event_id text NOT NULL,
  PRIMARY KEY (room_id, event_id)
);

-- The room's current state, one event per (type, state_key).
CREATE TABLE current_state (
  room_id text NOT NULL REFERENCES rooms (room_id),
  type text NOT NULL,
  state_key text NOT NULL,
  event_id text NOT NULL,
  stream_ordering bigint NOT NULL,
  PRIMARY KEY (room_id, type, state_key)
);

-- Each user's current membership per room (a projection of current_state),
-- what sync and joined_rooms read.
CREATE TABLE room_memberships (
  user_id text NOT NULL,
  room_id text NOT NULL REFERENCES rooms (room_id),
  membership text NOT NULL,
  event_id text NOT NULL,
  stream_ordering bigint NOT NULL,
  forgotten boolean NOT NULL DEFAULT false,
  PRIMARY KEY (user_id, room_id)
);
CREATE INDEX room_memberships_room ON room_memberships (room_id, membership);
CREATE INDEX room_memberships_user_stream ON room_memberships (user_id, stream_ordering);

-- Idempotent sends: one event per (user, device, txnId).
CREATE TABLE event_transactions (
  user_id text NOT NULL,
  device_id text NOT NULL,
  txn_id text NOT NULL,
  room_id text NOT NULL,
  event_id text NOT NULL,
  PRIMARY KEY (user_id, device_id, txn_id)
);

-- The server's signing keys (ed25519). Every node signs with the same key.
CREATE TABLE server_signing_keys (
  key_id text PRIMARY KEY,
  seed text NOT NULL,
  created_ts bigint NOT NULL
);
