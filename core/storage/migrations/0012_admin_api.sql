-- The admin API (core/admin/, docs/admin-api.md): what it records beyond the
-- accounts and rooms themselves.

-- Shadow-banned users: their messages are accepted and answered as usual but
-- never stored or delivered. Erased users: deactivated with erase=true (their
-- profile is gone; the flag is what the admin API reports).
ALTER TABLE users ADD COLUMN shadow_banned boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN erased boolean NOT NULL DEFAULT false;
-- The admin list orders by these; the others are small enough to sort.
CREATE INDEX users_created ON users (created_ts);

-- Per-user rate limit overrides (POST .../override_ratelimit). 0 and 0 means
-- "not limited at all", as in Synapse.
CREATE TABLE ratelimit_overrides (
  user_id text PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
  messages_per_second integer NOT NULL CHECK (messages_per_second >= 0),
  burst_count integer NOT NULL CHECK (burst_count >= 0)
);

-- Rooms no local user may join (PUT .../block, or a delete with block).
-- Not a foreign key: a room can be blocked before this server knows it.
CREATE TABLE blocked_rooms (
  room_id text PRIMARY KEY,
  blocked_by text NOT NULL,
  created_ts bigint NOT NULL
);

-- Room deletions (DELETE /_synapse/admin/v2/rooms/{id}), which run in the
-- background; any node answers delete_status from these rows. A node that
-- dies mid-deletion leaves its row "active"; repeating the DELETE resumes it.
CREATE TABLE room_deletions (
  delete_id text PRIMARY KEY,
  room_id text NOT NULL,
  requester text NOT NULL,
  -- "scheduled", "active", "complete" or "failed"
  status text NOT NULL,
  -- the request's options and, when done, the result (JSON text)
  params text NOT NULL,
  result text,
  error text,
  created_ts bigint NOT NULL,
  updated_ts bigint NOT NULL
);
CREATE INDEX room_deletions_room ON room_deletions (room_id, created_ts);

-- Registration tokens (/_synapse/admin/v1/registration_tokens). pending:
-- registrations that passed the token stage but have not finished;
-- completed: registrations that used it. uses_allowed NULL: unlimited;
-- expiry_time NULL: never (ms since the epoch).
CREATE TABLE registration_tokens (
  token text PRIMARY KEY,
  uses_allowed integer CHECK (uses_allowed >= 0),
  pending integer NOT NULL DEFAULT 0,
  completed integer NOT NULL DEFAULT 0,
  expiry_time bigint
);

-- Reports of events (POST /rooms/{id}/report/{eventId}), read by
-- /_synapse/admin/v1/event_reports.
CREATE TABLE event_reports (
  id bigserial PRIMARY KEY,
  received_ts bigint NOT NULL,
  room_id text NOT NULL,
  event_id text NOT NULL,
  user_id text NOT NULL,
  reason text,
  score integer,
  -- the report's body as sent (JSON text, bounded by the request size)
  content text NOT NULL
);
CREATE INDEX event_reports_received ON event_reports (received_ts);

-- Quarantined media (served to nobody until unquarantined), and media kept
-- out of quarantine by an admin.
ALTER TABLE media ADD COLUMN quarantined_by text;
ALTER TABLE media ADD COLUMN safe_from_quarantine boolean NOT NULL DEFAULT false;
ALTER TABLE media ADD COLUMN last_access_ts bigint;
CREATE INDEX media_uploader ON media (uploader, created_ts);
