#include "services/push_payload.h"

#include <algorithm>

namespace eltrix::services {

using json = nlohmann::json;

json notify_body(const PushFacts& facts) {
  json data = facts.pusher_data.is_object() ? facts.pusher_data : json::object();
  const bool id_only = data.value("format", "") == "event_id_only";
  data.erase("url");
  json device = {{"app_id", facts.app_id},
                 {"pushkey", facts.pushkey},
                 {"pushkey_ts", facts.pushkey_ts / 1000},  // seconds (spec)
                 {"data", data},
                 {"tweaks", facts.tweaks}};
  json n = {{"event_id", facts.event.value("event_id", "")},
            {"room_id", facts.event.value("room_id", "")},
            {"counts", {{"unread", facts.unread}}},
            {"devices", json::array({device})}};
  if (!id_only) {
    const bool loud = facts.tweaks.value("highlight", false) || facts.tweaks.contains("sound");
    n["type"] = facts.event.value("type", "");
    n["sender"] = facts.event.value("sender", "");
    n["prio"] = loud ? "high" : "low";
    if (facts.sender_display_name) n["sender_display_name"] = *facts.sender_display_name;
    if (facts.room_name) n["room_name"] = *facts.room_name;
    if (facts.room_alias) n["room_alias"] = *facts.room_alias;
    if (auto content = facts.event.find("content"); content != facts.event.end()) {
      n["content"] = *content;
    }
    if (n["type"] == "m.room.member") {
      n["user_is_target"] = facts.event.value("state_key", "") == facts.user_id;
    }
  }
  return {{"notification", n}};
}

std::vector<std::string> rejected_pushkeys(const std::string& response_body) {
  std::vector<std::string> out;
  const json parsed = json::parse(response_body, nullptr, false);
  if (!parsed.is_object()) return out;
  const auto rejected = parsed.find("rejected");
  if (rejected == parsed.end() || !rejected->is_array()) return out;
  for (const auto& key : *rejected) {
    if (key.is_string()) out.push_back(key.get<std::string>());
  }
  return out;
}

std::int64_t push_retry_delay_ms(int attempts, std::int64_t base_ms, std::int64_t max_ms) {
  std::int64_t delay = base_ms;
  for (int i = 1; i < attempts && delay < max_ms; ++i) delay *= 2;
  return std::min(delay, max_ms);
}

}  // namespace eltrix::services
