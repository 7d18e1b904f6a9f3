#include "sync/presence_content.h"

#include <algorithm>

namespace eltrix::sync {

nlohmann::json presence_content(const storage::Presence& presence, std::int64_t now,
                                const storage::Profile* profile) {
  nlohmann::json content{{"presence", presence.state}};
  std::int64_t ago = std::max<std::int64_t>(0, now - presence.last_active_ts);
  content["last_active_ago"] = ago;
  content["currently_active"] = presence.state == "online" && ago < kCurrentlyActiveMs;
  if (presence.status_msg) content["status_msg"] = *presence.status_msg;
  if (profile != nullptr) {
    if (profile->displayname) content["displayname"] = *profile->displayname;
    if (profile->avatar_url) content["avatar_url"] = *profile->avatar_url;
  }
  return content;
}

}  // namespace eltrix::sync
