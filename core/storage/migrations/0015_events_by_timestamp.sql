-- GET /rooms/{roomId}/timestamp_to_event (rooms/event_at_timestamp.cpp) finds
-- the event nearest a time in a room: by origin_server_ts, then topological
-- order. Without this index it would read every event of the room.
CREATE INDEX events_room_ts ON events (room_id, origin_server_ts, depth, stream_ordering);
