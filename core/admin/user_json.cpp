#include "admin/user_json.h"

namespace eltrix::admin {
namespace {

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json user_list_entry(const storage::AdminUser& user) {
  return {
      {"name", user.user_id},
      {"is_guest", false},
      {"admin", user.admin},
      {"user_type", nullptr},
      {"deactivated", user.deactivated},
      {"erased", user.erased},
      {"shadow_banned", user.shadow_banned},
      {"displayname", or_null(user.displayname)},
      {"avatar_url", or_null(user.avatar_url)},
      {"creation_ts", user.created_ts},
      {"last_seen_ts", or_null(user.last_seen_ts)},
      {"locked", false},
      {"approved", true},
  };
}

nlohmann::json user_details(const storage::AdminUser& user) {
  nlohmann::json out = user_list_entry(user);
  out["creation_ts"] = user.created_ts / 1000;
  out["threepids"] = nlohmann::json::array();
  out["external_ids"] = nlohmann::json::array();
  out["appservice_id"] = nullptr;
  out["consent_server_notice_sent"] = nullptr;
  out["consent_version"] = nullptr;
  out["consent_ts"] = nullptr;
  return out;
}

}  // namespace eltrix::admin
