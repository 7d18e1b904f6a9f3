-- Local accounts, their devices and access tokens, and the short-lived state
-- of user-interactive authentication and shared-secret registration. Every
-- node reads and writes these rows, so any node can continue what another
-- began (no sticky sessions).

-- One row per local account; user_id is the full MXID ("@alice:example.org").
-- The profile columns live here so that registration can set the initial
-- display name in the same transaction.
CREATE TABLE users (
  user_id text PRIMARY KEY,
  -- argon2id hash string (libsodium crypto_pwhash_str); NULL: no password login
  password_hash text,
  admin boolean NOT NULL DEFAULT false,
  -- a deactivated account cannot log in and its tokens are refused
  deactivated boolean NOT NULL DEFAULT false,
  created_ts bigint NOT NULL,
  displayname text,
  avatar_url text
);

CREATE TABLE devices (
  user_id text NOT NULL REFERENCES users (user_id),
  device_id text NOT NULL,
  display_name text,
  -- updated at most every few minutes per token (see core/client/auth_impl.cpp)
  last_seen_ts bigint,
  last_seen_ip text,
  created_ts bigint NOT NULL,
  PRIMARY KEY (user_id, device_id)
);

-- Only a SHA-256 of each access token is kept, so a copy of the database
-- does not contain working credentials.
CREATE TABLE access_tokens (
  token_hash text PRIMARY KEY,
  user_id text NOT NULL,
  device_id text NOT NULL,
  created_ts bigint NOT NULL,
  -- NULL: valid until logout (auth.session_lifetime = 0)
  expires_ts bigint,
  FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id) ON DELETE CASCADE
);
CREATE INDEX access_tokens_device ON access_tokens (user_id, device_id);

-- User-interactive authentication sessions (spec: "User-Interactive
-- Authentication API"). Kept in the database, not in memory, because the
-- next request of a flow may reach another node.
CREATE TABLE uia_sessions (
  session_id text PRIMARY KEY,
  -- the request the session authorises, e.g. "POST /register"; a session
  -- cannot be reused for another operation
  operation text NOT NULL,
  -- the account that must complete it (NULL for registration)
  user_id text,
  -- JSON array of the stage types completed so far
  completed text NOT NULL DEFAULT '[]',
  -- JSON object: the "params" sent to the client
  params text NOT NULL DEFAULT '{}',
  created_ts bigint NOT NULL
);
CREATE INDEX uia_sessions_created ON uia_sessions (created_ts);

-- Nonces handed out by GET /_synapse/admin/v1/register: single use, valid
-- for 60 seconds.
CREATE TABLE admin_register_nonces (
  nonce text PRIMARY KEY,
  created_ts bigint NOT NULL
);
CREATE INDEX admin_register_nonces_created ON admin_register_nonces (created_ts);
