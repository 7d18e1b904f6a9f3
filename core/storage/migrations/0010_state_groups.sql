-- The room DAG and the state at every event (rooms/event_persist.cpp,
-- rooms/state_groups.cpp; decision D32).
--
-- 1. State groups. A state group is one state of a room: a set of
-- (type, state_key) -> event_id. A group is stored as a delta against
-- prev_group (the entries that differ), or whole (prev_group NULL). A chain
-- of deltas is at most 100 long (chain_length), so reading a state walks at
-- most 100 groups; the writer then stores a whole copy instead. The empty
-- state (before m.room.create) is no group at all: NULL.
CREATE TABLE state_groups (
  id bigserial PRIMARY KEY,
  room_id text NOT NULL REFERENCES rooms (room_id),
  prev_group bigint REFERENCES state_groups (id),
  chain_length integer NOT NULL DEFAULT 0
);

CREATE TABLE state_group_entries (
  state_group bigint NOT NULL REFERENCES state_groups (id),
  type text NOT NULL,
  state_key text NOT NULL,
  event_id text NOT NULL,
  PRIMARY KEY (state_group, type, state_key)
);

-- The state a group stands for: each (type, state_key) from the nearest
-- group along the chain that names it.
CREATE FUNCTION room_state_of_group(g bigint)
RETURNS TABLE (type text, state_key text, event_id text)
LANGUAGE sql STABLE AS $$
  WITH RECURSIVE chain (id, prev, n) AS (
    SELECT id, prev_group, 0 FROM state_groups WHERE id = g
    UNION ALL
    SELECT s.id, s.prev_group, c.n + 1 FROM state_groups s JOIN chain c ON s.id = c.prev
  )
  SELECT DISTINCT ON (e.type, e.state_key) e.type, e.state_key, e.event_id
    FROM chain c JOIN state_group_entries e ON e.state_group = c.id
   ORDER BY e.type, e.state_key, c.n
$$;

-- 2. Each event's state: before it (what its auth and visibility are
-- checked against) and after it (the same group for a non-state event);
-- and the room's current state once it was persisted, which is the state
-- after it only when it landed on every forward extremity: the state "at a
-- stream position" (sync) is the current_after of the last event persisted
-- by then, so an event arriving late, deep in the DAG, never looks current.
ALTER TABLE events ADD COLUMN state_before bigint;
ALTER TABLE events ADD COLUMN state_after bigint;
ALTER TABLE events ADD COLUMN current_after bigint;

-- 3. The DAG's edges (prev_events), so a new event knows whether a stored
-- event already names it (then it is no forward extremity).
CREATE TABLE event_edges (
  event_id text NOT NULL,
  prev_event_id text NOT NULL,
  room_id text NOT NULL REFERENCES rooms (room_id),
  PRIMARY KEY (event_id, prev_event_id)
);
CREATE INDEX event_edges_prev ON event_edges (prev_event_id);

-- 4. Topological order: depth, then stream order as the tie-break
-- (/messages, /context).
CREATE INDEX events_room_topological ON events (room_id, depth, stream_ordering);

-- Backfill. Every event stored so far is local, and local events formed a
-- chain: each one's prev_events was the event before it in stream order
-- (the room's single forward extremity), so the chain gives the edges, and
-- replaying each room's state events in stream order gives the groups.
INSERT INTO event_edges (event_id, prev_event_id, room_id)
SELECT event_id, prev, room_id FROM (
  SELECT event_id, room_id,
         lag(event_id) OVER (PARTITION BY room_id ORDER BY stream_ordering) AS prev
    FROM events) chain
 WHERE prev IS NOT NULL;

DO $$
DECLARE
  r record;
  e record;
  g bigint;
  len integer;
  new_g bigint;
BEGIN
  FOR r IN SELECT room_id FROM rooms LOOP
    g := NULL;
    len := 0;
    FOR e IN SELECT event_id, type, state_key FROM events
              WHERE room_id = r.room_id AND state_key IS NOT NULL
              ORDER BY stream_ordering LOOP
      IF g IS NULL OR len >= 100 THEN
        INSERT INTO state_groups (room_id, prev_group, chain_length)
        VALUES (r.room_id, NULL, 0) RETURNING id INTO new_g;
        IF g IS NOT NULL THEN
          INSERT INTO state_group_entries (state_group, type, state_key, event_id)
          SELECT new_g, s.type, s.state_key, s.event_id FROM room_state_of_group(g) s
           WHERE NOT (s.type = e.type AND s.state_key = e.state_key);
        END IF;
        len := 0;
      ELSE
        len := len + 1;
        INSERT INTO state_groups (room_id, prev_group, chain_length)
        VALUES (r.room_id, g, len) RETURNING id INTO new_g;
      END IF;
      INSERT INTO state_group_entries (state_group, type, state_key, event_id)
      VALUES (new_g, e.type, e.state_key, e.event_id);
      UPDATE events SET state_before = g, state_after = new_g WHERE event_id = e.event_id;
      g := new_g;
    END LOOP;
  END LOOP;
  -- A non-state event's state is that of the latest state event before it.
  UPDATE events x
     SET state_before = s.state_after, state_after = s.state_after
    FROM (SELECT n.event_id,
                 (SELECT p.state_after FROM events p
                   WHERE p.room_id = n.room_id AND p.state_key IS NOT NULL
                     AND p.stream_ordering < n.stream_ordering
                   ORDER BY p.stream_ordering DESC LIMIT 1) AS state_after
            FROM events n WHERE n.state_key IS NULL) s
   WHERE x.event_id = s.event_id;
  UPDATE events SET current_after = state_after;
END
$$;
