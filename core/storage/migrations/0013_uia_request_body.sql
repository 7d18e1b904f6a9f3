-- User-interactive authentication remembers the request it authorises
-- (spec: "User-Interactive Authentication API"): the first request's body,
-- without "auth", so a later request may carry only "auth". The body can hold
-- a password, so it is stored sealed (client/uia.cpp: libsodium secretbox
-- under a key derived from server.secret_key), base64. NULL: none yet.
ALTER TABLE uia_sessions ADD COLUMN sealed_body text;
