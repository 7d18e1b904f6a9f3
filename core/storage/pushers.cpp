#include "storage/pushers.h"

namespace eltrix::storage {

std::vector<Pusher> list_pushers(Transaction& tx, const std::string& user_id) {
  std::vector<Pusher> out;
  for (const auto& row :
       tx.exec("SELECT device_id, app_id, pushkey, kind, app_display_name, device_display_name, "
               "profile_tag, lang, data::text FROM pushers WHERE user_id = $1 "
               "ORDER BY created_ts, app_id, pushkey",
               user_id)) {
    out.push_back({.user_id = user_id,
                   .device_id = row[0].as<std::string>(),
                   .app_id = row[1].as<std::string>(),
                   .pushkey = row[2].as<std::string>(),
                   .kind = row[3].as<std::string>(),
                   .app_display_name = row[4].as<std::string>(),
                   .device_display_name = row[5].as<std::string>(),
                   .profile_tag = row[6].is_null()
                                      ? std::nullopt
                                      : std::optional<std::string>(row[6].as<std::string>()),
                   .lang = row[7].as<std::string>(),
                   .data = row[8].as<std::string>()});
  }
  return out;
}

std::int64_t count_pushers(Transaction& tx, const std::string& user_id) {
  return tx.exec1("SELECT count(*) FROM pushers WHERE user_id = $1", user_id)[0].as<std::int64_t>();
}

void put_pusher(Transaction& tx, const Pusher& p, bool append, std::int64_t now_ms) {
  if (!append) {
    tx.exec("DELETE FROM pushers WHERE app_id = $1 AND pushkey = $2 AND user_id <> $3", p.app_id,
            p.pushkey, p.user_id);
  }
  tx.exec(
      "INSERT INTO pushers (user_id, app_id, pushkey, device_id, kind, app_display_name, "
      "device_display_name, profile_tag, lang, data, created_ts) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11) "
      "ON CONFLICT (user_id, app_id, pushkey) DO UPDATE SET device_id = EXCLUDED.device_id, "
      "kind = EXCLUDED.kind, app_display_name = EXCLUDED.app_display_name, "
      "device_display_name = EXCLUDED.device_display_name, profile_tag = EXCLUDED.profile_tag, "
      "lang = EXCLUDED.lang, data = EXCLUDED.data",
      p.user_id, p.app_id, p.pushkey, p.device_id, p.kind, p.app_display_name,
      p.device_display_name, p.profile_tag, p.lang, p.data, now_ms);
}

bool delete_pusher(Transaction& tx, const std::string& user_id, const std::string& app_id,
                   const std::string& pushkey) {
  return tx.exec0("DELETE FROM pushers WHERE user_id = $1 AND app_id = $2 AND pushkey = $3",
                  user_id, app_id, pushkey) > 0;
}

}  // namespace eltrix::storage
