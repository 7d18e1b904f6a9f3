-- The room directory (spec: "Room aliases", "Listing rooms", "User Directory").

-- Local room aliases (#name:our.server -> room ID). Only this server's own
-- aliases live here; other servers' aliases resolve over federation.
CREATE TABLE room_aliases (
  room_alias text PRIMARY KEY,
  room_id text NOT NULL REFERENCES rooms (room_id),
  -- may delete the alias whatever their power in the room
  creator text NOT NULL,
  created_ts bigint NOT NULL
);
-- GET /rooms/{roomId}/aliases
CREATE INDEX room_aliases_room ON room_aliases (room_id);

-- publicRooms reads only the published rooms; most rooms are not.
CREATE INDEX rooms_public ON rooms (room_id) WHERE is_public;

-- user_directory/search matches a localpart prefix (LIKE 'prefix%' on the
-- lowercased user ID, which text_pattern_ops can serve whatever the
-- collation) or words of the display name (text search with prefix terms).
-- Both indexes let the match select the few candidate users before their
-- rooms are looked at.
CREATE INDEX users_directory_id ON users (lower(user_id) text_pattern_ops);
CREATE INDEX users_directory_name ON users
  USING gin (to_tsvector('simple', coalesce(displayname, '')));
