#include "sync/providers.h"

#include "storage/user_data.h"
#include "sync/sections.h"

namespace eltrix::sync {

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
