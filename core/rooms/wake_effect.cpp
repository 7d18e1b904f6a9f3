#include "rooms/wake_effect.h"

#include "notify/notifier.h"

#include <algorithm>

namespace eltrix::rooms {

void WakeSyncs::committed(const std::vector<CommittedEvent>& events) noexcept {
  std::vector<std::string> keys;
  for (const auto& event : events) {
    if (!event.membership.empty() && event.state_key) {
      keys.push_back(notify::user_key(*event.state_key));
    }
    keys.push_back(notify::room_key(event.room_id));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  try {
    notifier_.notify(keys);
  } catch (...) {
    // A sync that is not woken still wakes at its deadline or on the stream
    // recheck (notify/stream_recheck.h); the events are stored.
  }
}

}  // namespace eltrix::rooms
