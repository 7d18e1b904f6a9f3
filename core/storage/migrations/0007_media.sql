-- The media repository (spec: "Content repository"). The bytes live in the
-- media-store plugin; this is their metadata, the state of record.

-- One row per media ID of this server. An asynchronous upload
-- (POST /_matrix/media/v1/create) inserts the row with uploaded_ts NULL; the
-- PUT that brings the bytes fills it in. A direct upload inserts the full row
-- only after the bytes are in the store.
CREATE TABLE media (
  server_name text NOT NULL,
  media_id text NOT NULL,
  uploader text NOT NULL,
  created_ts bigint NOT NULL,
  -- pending asynchronous uploads: unusable after this (ms since the epoch)
  unused_expires_ts bigint,
  -- a PUT is writing the bytes (claimed so two PUTs never write the same
  -- object); a claim older than the upload timeout is stale
  upload_claimed_ts bigint,
  uploaded_ts bigint,
  content_type text,
  size bigint,
  sha256 text,
  upload_name text,
  PRIMARY KEY (server_name, media_id),
  CHECK (uploaded_ts IS NULL OR (content_type IS NOT NULL AND size IS NOT NULL
                                 AND sha256 IS NOT NULL))
);
-- The per-user bound on pending asynchronous uploads counts these.
CREATE INDEX media_pending_by_uploader ON media (uploader) WHERE uploaded_ts IS NULL;

-- Thumbnails made from a media row, stored in the media store too, reused
-- for every later request of the same size and method.
CREATE TABLE media_thumbnails (
  server_name text NOT NULL,
  media_id text NOT NULL,
  width integer NOT NULL,
  height integer NOT NULL,
  method text NOT NULL CHECK (method IN ('scale', 'crop')),
  content_type text NOT NULL,
  size bigint NOT NULL,
  created_ts bigint NOT NULL,
  PRIMARY KEY (server_name, media_id, width, height, method),
  FOREIGN KEY (server_name, media_id) REFERENCES media (server_name, media_id) ON DELETE CASCADE
);
