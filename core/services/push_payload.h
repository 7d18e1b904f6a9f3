// What the push sender (services/push_sender.h) computes without I/O: the
// body of a POST to a push gateway's /_matrix/push/v1/notify (spec: Push
// Gateway API), and when a failed push is tried again. Pure, unit-tested.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eltrix::services {

/// What one push says about its event and room.
struct PushFacts {
  std::string user_id;   ///< whom the push is for
  nlohmann::json event;  ///< the event, client format
  std::optional<std::string> sender_display_name;
  std::optional<std::string> room_name;
  std::optional<std::string> room_alias;
  std::int64_t unread = 0;
  /// The pusher: its app_id, pushkey, when it was set, data and tweaks.
  std::string app_id;
  std::string pushkey;
  std::int64_t pushkey_ts = 0;
  nlohmann::json pusher_data = nlohmann::json::object();
  nlohmann::json tweaks = nlohmann::json::object();
};

/// The notify body: {"notification": {event_id, room_id, type, sender,
/// sender_display_name, room_name, room_alias, prio, content, counts,
/// devices}}. With data.format "event_id_only" only the event and room IDs,
/// the counts and the devices go (the gateway fetches the rest). The
/// device's data is the pusher's data without "url" (the spec: the url is
/// the server's business). prio is "high" for events that highlight or
/// make a sound, "low" otherwise.
nlohmann::json notify_body(const PushFacts& facts);

/// The rejected pushkeys of a gateway's 2xx answer ({"rejected": [...]});
/// an answer that is not that shape rejects nothing.
std::vector<std::string> rejected_pushkeys(const std::string& response_body);

/// The wait before attempt `attempts` + 1 after `attempts` failed ones:
/// `base_ms` doubled per failure, capped at `max_ms`.
std::int64_t push_retry_delay_ms(int attempts, std::int64_t base_ms, std::int64_t max_ms);

}  // namespace eltrix::services
