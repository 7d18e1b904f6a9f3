-- Full-text search over room events (spec: "Server Side Search", POST
-- /search; client/search.cpp). The searchable text is what the spec names:
-- content.body of messages, content.name and content.topic of the room's
-- name and topic, read from events.sql_content (0008: kept with every NUL
-- replaced, so it always casts; emptied on redaction). An expression index,
-- not a column: no rewrite of the events table, and nothing for the insert
-- path to fill in. The query must repeat this expression and the predicate
-- exactly for PostgreSQL to use the index. IF NOT EXISTS: an operator may
-- build it beforehand with CREATE INDEX CONCURRENTLY (operator guide).
CREATE INDEX IF NOT EXISTS events_search ON events USING gin (
  to_tsvector('english', coalesce(sql_content ->> 'body', sql_content ->> 'name',
                                  sql_content ->> 'topic', '')))
  WHERE type IN ('m.room.message', 'm.room.name', 'm.room.topic');
