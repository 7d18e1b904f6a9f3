-- Signing key rotation (`eltrix keys rotate`, `eltrix keys import`). A key
-- that no longer signs keeps its public half and the time it stopped being
-- valid (the key server's old_verify_keys), so events it signed still
-- verify; its seed is erased. Exactly one key has no expired_ts: the one
-- every node signs with.

-- Two nodes starting at once on an empty table could each insert a key
-- before this migration (the insert was guarded only by NOT EXISTS); every
-- node signed with the oldest, so the others never signed anything.
DELETE FROM server_signing_keys
 WHERE key_id <> (SELECT key_id FROM server_signing_keys ORDER BY created_ts, key_id LIMIT 1);

ALTER TABLE server_signing_keys
  ADD COLUMN public_key text,
  ADD COLUMN expired_ts bigint,
  ALTER COLUMN seed DROP NOT NULL,
  ADD CONSTRAINT server_signing_keys_current_has_seed
    CHECK ((expired_ts IS NULL) = (seed IS NOT NULL)),
  ADD CONSTRAINT server_signing_keys_retired_has_public_key
    CHECK (expired_ts IS NULL OR public_key IS NOT NULL);

CREATE UNIQUE INDEX server_signing_keys_one_current
  ON server_signing_keys ((true)) WHERE expired_ts IS NULL;
