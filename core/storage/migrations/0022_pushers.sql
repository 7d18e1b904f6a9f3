-- Pushers (spec: "Push Notifications", POST /pushers/set): where a user's
-- devices want their notifications pushed. A pusher belongs to the device
-- whose access token set it, so deleting the device (logout, device
-- deletion, deactivation) removes its pushers, as in Synapse.
CREATE TABLE pushers (
  user_id text NOT NULL,
  app_id text NOT NULL,
  pushkey text NOT NULL,
  device_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('http', 'email')),
  app_display_name text NOT NULL,
  device_display_name text NOT NULL,
  profile_tag text,
  lang text NOT NULL,
  data jsonb NOT NULL,
  created_ts bigint NOT NULL,
  PRIMARY KEY (user_id, app_id, pushkey),
  FOREIGN KEY (user_id, device_id) REFERENCES devices (user_id, device_id) ON DELETE CASCADE
);
-- append = false removes the same (app_id, pushkey) of every other user.
CREATE INDEX pushers_app_pushkey ON pushers (app_id, pushkey);
-- The foreign key's cascade looks pushers up by device.
CREATE INDEX pushers_device ON pushers (user_id, device_id);
