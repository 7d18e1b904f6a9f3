-- Forward extremities in slots that are updated in place (docs/decisions.md
-- D38).
--
-- Every message replaced its room's extremity row: one DELETE and one INSERT
-- of a new key. Dead rows and dead index entries piled up faster than
-- autovacuum (once a minute at most) removed them, and every send scanned
-- them: after a 12 s benchmark the table held 20 live rows in 41 pages and
-- its index 230 pages, and reading the extremities was most of PostgreSQL's
-- CPU per message.
--
-- Now a room has a few slots, each holding one extremity or none (NULL).
-- A message writes its event ID into the slot of an extremity it replaces
-- and empties the others: an UPDATE of a column no index covers, which
-- PostgreSQL makes a heap-only tuple (HOT). No index entry is added, and the
-- old versions are pruned from the page by the next access, so the table
-- and its index stay as large as the number of slots. A room needs more
-- than one slot only while messages sent at once fork its DAG (D36).
--
-- A slot also holds what building the next event needs of its extremity
-- (depth, stream position, state group after it), so that reading them does
-- not join the events table: a cached plan made while that table was small
-- scanned all of it, every send, as it grew.
CREATE TABLE room_extremity_slots (
  room_id text NOT NULL REFERENCES rooms (room_id),
  slot integer NOT NULL,
  event_id text,
  depth bigint,
  stream_ordering bigint,
  state_after bigint,
  PRIMARY KEY (room_id, slot)
) WITH (fillfactor = 50);

INSERT INTO room_extremity_slots (room_id, slot, event_id, depth, stream_ordering, state_after)
SELECT f.room_id, (row_number() OVER (PARTITION BY f.room_id ORDER BY f.event_id) - 1)::integer,
       f.event_id, e.depth, e.stream_ordering, e.state_after
  FROM room_forward_extremities f JOIN events e ON e.event_id = f.event_id;

DROP TABLE room_forward_extremities;

-- What readers want: the extremities themselves (a simple view, so it can
-- also be locked and deleted from).
CREATE VIEW room_forward_extremities AS
SELECT room_id, event_id FROM room_extremity_slots WHERE event_id IS NOT NULL;
