-- 1. events.sql_content: the parts of an event's content that SQL reads
-- (publicRooms, the user directory, unread highlight counts), as jsonb.
--
-- The PDU column stays the record, as text: PostgreSQL's jsonb refuses the
-- escape \u0000, which is valid JSON and which other servers may send, so a
-- query that cast events.pdu to jsonb failed for every user as soon as one
-- such event was in its scan (a NUL in one message broke /sync for the whole
-- room). sql_content is written with the event (rooms/event_sql_content.cpp)
-- with every NUL in its strings and keys replaced by U+FFFD, so it always
-- casts; it is a projection for filtering and listing, never served as the
-- event. Rows: state events keep their whole content (small, and what the
-- directory reads); m.room.message, m.sticker and m.room.encrypted keep only
-- "body" and "m.mentions" (the highlight check); others have NULL.
ALTER TABLE events ADD COLUMN sql_content jsonb;

-- Backfill. Each \u0000 escape (one preceded by an even number of
-- backslashes, so not the text "\\u0000") becomes \ufffd, which keeps the
-- text valid JSON; the loop catches adjacent escapes, which one pass of a
-- non-overlapping 'g' replace skips. A row that still does not cast gets
-- NULL (it then counts as having no such fields) rather than failing the
-- migration.
CREATE FUNCTION eltrix_0008_sql_content(pdu text, is_state boolean)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  t text := pdu;
  t2 text;
  c jsonb;
  kept jsonb := '{}'::jsonb;
BEGIN
  IF strpos(t, E'\\u0000') > 0 THEN
    LOOP
      t2 := regexp_replace(t, E'((?:^|[^\\\\])(?:\\\\\\\\)*)\\\\u0000', E'\\1\\\\ufffd', 'g');
      EXIT WHEN t2 = t;
      t := t2;
    END LOOP;
  END IF;
  c := t::jsonb -> 'content';
  IF c IS NULL OR jsonb_typeof(c) <> 'object' THEN
    RETURN NULL;
  END IF;
  IF is_state THEN
    RETURN c;
  END IF;
  IF c ? 'body' THEN
    kept := kept || jsonb_build_object('body', c -> 'body');
  END IF;
  IF c ? 'm.mentions' THEN
    kept := kept || jsonb_build_object('m.mentions', c -> 'm.mentions');
  END IF;
  IF kept = '{}'::jsonb THEN
    RETURN NULL;
  END IF;
  RETURN kept;
EXCEPTION WHEN others THEN
  RETURN NULL;
END
$$;

UPDATE events
   SET sql_content = eltrix_0008_sql_content(pdu, state_key IS NOT NULL)
 WHERE state_key IS NOT NULL
    OR type IN ('m.room.message', 'm.sticker', 'm.room.encrypted');

DROP FUNCTION eltrix_0008_sql_content(text, boolean);

-- 2. Transaction IDs are scoped per device and per request path (spec:
-- "Transaction identifiers"): the same txnId sent to another room, with
-- another event type, or to /redact is a new request, not a retry. `endpoint`
-- is the request path without the txnId ("send/<room>/<type>",
-- "redact/<room>/<event>"). Rows from before this migration are all /send
-- requests as far as we can tell (a redaction may have come through either
-- endpoint); a retry across the upgrade is the only thing that could differ.
ALTER TABLE event_transactions ADD COLUMN endpoint text;
UPDATE event_transactions t
   SET endpoint = 'send/' || t.room_id || '/' || e.type
  FROM events e
 WHERE e.event_id = t.event_id;
-- A transaction whose event is gone can never be answered again.
DELETE FROM event_transactions WHERE endpoint IS NULL;
ALTER TABLE event_transactions ALTER COLUMN endpoint SET NOT NULL;
ALTER TABLE event_transactions DROP CONSTRAINT event_transactions_pkey;
ALTER TABLE event_transactions ADD PRIMARY KEY (user_id, device_id, endpoint, txn_id);
