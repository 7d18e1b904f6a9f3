#include "sync/providers.h"

#include "rooms/event_store.h"
#include "storage/user_data.h"
#include "sync/presence_content.h"
#include "sync/sections.h"

namespace eltrix::sync {

using nlohmann::json;

json presence(storage::Transaction& tx, const std::string& user_id,
              const std::vector<std::string>& room_ids, std::int64_t from, std::int64_t to,
              const Filter& filter) {
  json events = json::array();
  std::size_t limit = filter.presence.limit_or(kMaxPresenceEvents, kMaxPresenceEvents);
  if (limit == 0 || !filter.presence.matches_type("m.presence")) {
    return json{{"events", std::move(events)}};
  }
  // Read beyond the limit by the sender exclusions, which are applied after.
  auto rows = storage::presence_between(tx, user_id, room_ids, from, to,
                                        limit + filter.presence.not_senders.size());
  std::vector<std::string> users;
  users.reserve(rows.size());
  for (const auto& row : rows) users.push_back(row.user_id);
  auto profiles = storage::profiles_of(tx, users);
  std::int64_t now = rooms::now_ms();
  for (const auto& row : rows) {
    if (events.size() >= limit) break;
    auto profile = profiles.find(row.user_id);
    json event{{"type", "m.presence"},
               {"sender", row.user_id},
               {"content", presence_content(
                               row, now, profile == profiles.end() ? nullptr : &profile->second)}};
    if (filter.presence.matches(event)) events.push_back(std::move(event));
  }
  return json{{"events", std::move(events)}};
}

namespace {

class PresenceProvider final : public SharedStreamProvider {
 public:
  [[nodiscard]] std::string_view name() const override { return "presence"; }

  void init(SyncState& /*sync*/, SyncResponse& response) const override {
    response.body["presence"] = {{"events", nlohmann::json::array()}};
  }

  bool has_updates(SyncState& sync) const override {
    const std::int64_t from = sync.stream_from();
    const std::int64_t to = sync.stream_to();
    if (from >= to) return false;
    return !storage::presence_between(sync.tx, sync.user_id(), sync.joined_rooms(), from, to, 1)
                .empty();
  }

  bool write(SyncState& sync, SyncResponse& response) const override {
    auto presence = sync::presence(sync.tx, sync.user_id(), sync.joined_rooms(), sync.stream_from(),
                                   sync.stream_to(), sync.request.filter);
    const bool wrote = !presence["events"].empty();
    response.body["presence"] = std::move(presence);
    return wrote;
  }
};

}  // namespace

std::unique_ptr<StreamProvider> presence_provider() {
  return std::make_unique<PresenceProvider>();
}

}  // namespace eltrix::sync
