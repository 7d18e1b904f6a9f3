-- Facts the server pins on first start (server_name, ...). See storage::get_setting.
CREATE TABLE server_settings (
    key text PRIMARY KEY,
    value text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
