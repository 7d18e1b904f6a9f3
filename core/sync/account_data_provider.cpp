#include "sync/providers.h"

#include "storage/user_data.h"
#include "sync/sections.h"

namespace eltrix::sync {

namespace {

class AccountDataProvider final : public SharedStreamProvider {
 public:
  [[nodiscard]] std::string_view name() const override { return "account_data"; }

  void init(SyncState& /*sync*/, SyncResponse& response) const override {
    response.body["account_data"] = {{"events", nlohmann::json::array()}};
  }

  bool has_updates(SyncState& sync) const override {
    const std::int64_t from = sync.stream_from();
    const std::int64_t to = sync.stream_to();
    if (from >= to) return false;
    if (!storage::global_account_data_between(sync.tx, sync.user_id(), from, to, 1).empty()) {
      return true;
    }
    const auto& joined = sync.joined_rooms();
    return !joined.empty() &&
           !storage::room_account_data_between(sync.tx, sync.user_id(), joined, from, to, 1)
                .empty();
  }

  bool write(SyncState& sync, SyncResponse& response) const override {
    const auto& filter = sync.request.filter;
    auto global = sync::global_account_data(sync.tx, sync.user_id(), sync.stream_from(),
                                            sync.stream_to(), filter);
    bool wrote = !global["events"].empty();
    response.body["account_data"] = std::move(global);
    auto per_room = sync::room_account_data(sync.tx, sync.user_id(), sync.joined_rooms(),
                                            sync.stream_from(), sync.stream_to(), filter);
    for (auto& [room_id, section] : per_room) {
      if (section["events"].empty()) continue;
      response.joined_room(room_id)["account_data"] = std::move(section);
      wrote = true;
    }
    return wrote;
  }
};

}  // namespace

std::unique_ptr<StreamProvider> account_data_provider() {
  return std::make_unique<AccountDataProvider>();
}

}  // namespace eltrix::sync
