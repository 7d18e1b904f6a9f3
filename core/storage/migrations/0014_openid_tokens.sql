-- OpenID tokens (spec: POST /user/{userId}/openid/request_token): a
-- short-lived proof of "I am this user" a client gives a third party, which
-- checks it at /_matrix/federation/v1/openid/userinfo. Only the token's hash
-- is kept, as for access tokens.
CREATE TABLE openid_tokens (
  token_hash text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  expires_ts bigint NOT NULL
);
CREATE INDEX openid_tokens_expires ON openid_tokens (expires_ts);
