-- Relations between events (spec: "Forming relationships between events"):
-- one row per event whose content names a parent in m.relates_to with a
-- rel_type and an event_id, written by the persist phase of the room
-- pipeline (rooms/event_relations.cpp) whatever the event's origin, and
-- removed when the event is redacted (redaction strips m.relates_to).
-- The parent need not be known yet (a reply may arrive before its root), so
-- relates_to_id is not a foreign key. A purged room (rooms/room_admin.cpp)
-- loses its rows through the cascade from events.
CREATE TABLE event_relations (
  event_id text PRIMARY KEY REFERENCES events (event_id) ON DELETE CASCADE,
  relates_to_id text NOT NULL,
  rel_type text NOT NULL,
  -- m.annotation's "key" (a reaction's emoji): one per sender, parent and key
  aggregation_key text,
  room_id text NOT NULL,
  type text NOT NULL,
  sender text NOT NULL,
  depth bigint NOT NULL,
  stream_ordering bigint NOT NULL,
  origin_server_ts bigint NOT NULL
);
-- /relations pages a parent's children in topological order, and bundled
-- aggregations group the children of a page's events by rel_type.
CREATE INDEX event_relations_parent
  ON event_relations (relates_to_id, rel_type, depth, stream_ordering);

-- The threads of a room (spec: "Threading"), newest activity first: one row
-- per thread root, moved to the stream position of its newest reply, so
-- GET /threads reads one index range instead of grouping every reply.
CREATE TABLE room_threads (
  room_id text NOT NULL,
  thread_id text NOT NULL,
  latest_stream bigint NOT NULL,
  PRIMARY KEY (room_id, thread_id)
);
CREATE UNIQUE INDEX room_threads_latest ON room_threads (room_id, latest_stream);

-- Backfill from the stored events. Only PDUs that mention m.relates_to are
-- parsed; a PDU that does not cast to jsonb (an escaped NUL, see 0008) is
-- skipped: it stays readable, it only does not count as a relation.
CREATE FUNCTION eltrix_0017_relates_to(pdu text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN pdu::jsonb -> 'content' -> 'm.relates_to';
EXCEPTION WHEN others THEN
  RETURN NULL;
END
$$;

INSERT INTO event_relations (event_id, relates_to_id, rel_type, aggregation_key, room_id, type,
                             sender, depth, stream_ordering, origin_server_ts)
SELECT e.event_id, r ->> 'event_id', r ->> 'rel_type',
       CASE WHEN jsonb_typeof(r -> 'key') = 'string' AND length(r ->> 'key') <= 255
            THEN r ->> 'key' END,
       e.room_id, e.type, e.sender, e.depth, e.stream_ordering, e.origin_server_ts
  FROM events e, LATERAL eltrix_0017_relates_to(e.pdu) AS r
 WHERE strpos(e.pdu, 'm.relates_to') > 0
   AND e.state_key IS NULL  -- as at runtime: relations are on message events only
   AND e.redacted_by IS NULL
   AND jsonb_typeof(r) = 'object'
   AND jsonb_typeof(r -> 'event_id') = 'string'
   AND jsonb_typeof(r -> 'rel_type') = 'string'
   AND length(r ->> 'event_id') <= 255
   AND length(r ->> 'rel_type') <= 255;

INSERT INTO room_threads (room_id, thread_id, latest_stream)
SELECT room_id, relates_to_id, max(stream_ordering)
  FROM event_relations
 WHERE rel_type = 'm.thread'
 GROUP BY room_id, relates_to_id;

DROP FUNCTION eltrix_0017_relates_to(text);
