// server_settings: small key/value facts the server pins in the database
// (e.g. server_name, so a node started with another name refuses to run).
#include "storage/database.h"

namespace eltrix::storage {

// Both go to the primary: settings are read at startup, right after they may
// have been written, and a lagging replica must not hide them.

std::optional<std::string> get_setting(Database& db, std::string_view key) {
  return db.write([&](Transaction& tx) -> std::optional<std::string> {
    auto row = tx.exec_optional("SELECT value FROM server_settings WHERE key = $1", key);
    if (!row) return std::nullopt;
    return (*row)[0].as<std::string>();
  });
}

bool put_setting_if_absent(Database& db, std::string_view key, std::string_view value) {
  return db.write([&](Transaction& tx) {
    return tx.exec0(
               "INSERT INTO server_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO "
               "NOTHING",
               key, value) == 1;
  });
}

}  // namespace eltrix::storage
