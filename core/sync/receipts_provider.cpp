#include "sync/providers.h"

#include "storage/user_data.h"
#include "sync/sections.h"

namespace eltrix::sync {

namespace {

class ReceiptsProvider final : public SharedStreamProvider {
 public:
  [[nodiscard]] std::string_view name() const override { return "receipts"; }

  bool has_updates(SyncState& sync) const override {
    const auto& joined = sync.joined_rooms();
    const std::int64_t from = sync.stream_from();
    const std::int64_t to = sync.stream_to();
    if (joined.empty() || from >= to) return false;
    return !storage::receipts_between(sync.tx, joined, sync.user_id(), from, to, 1).empty();
  }

  bool write(SyncState& sync, SyncResponse& response) const override {
    // The room filter already chose the joined rooms; the ephemeral filter
    // is not applied to receipts (as before providers; see sections.h).
    auto receipts = sync::room_receipts(sync.tx, sync.user_id(), sync.joined_rooms(),
                                        sync.stream_from(), sync.stream_to());
    for (auto& [room_id, receipt] : receipts) {
      response.joined_room(room_id)["ephemeral"]["events"].push_back(std::move(receipt));
    }
    return !receipts.empty();
  }
};

}  // namespace

std::unique_ptr<StreamProvider> receipts_provider() {
  return std::make_unique<ReceiptsProvider>();
}

}  // namespace eltrix::sync
