-- Every message inserted one events row and one event_edges row, and each
-- checked its foreign key to rooms: two extra queries per message, and a
-- FOR KEY SHARE lock on the room's row, which senders in one room share and
-- PostgreSQL must record as a multixact. The key is kept by how rooms are
-- written instead: events and edges are inserted only by the room pipeline
-- under the room's advisory lock after it read the room
-- (lock_room_statement and locked_room, rooms/event_store.h), and a room is deleted only by purge_room under the exclusive
-- lock, which deletes its events and edges first.
ALTER TABLE events DROP CONSTRAINT events_room_id_fkey;
ALTER TABLE event_edges DROP CONSTRAINT event_edges_room_id_fkey;
