#include "sync/providers.h"

#include "storage/user_data.h"
#include "sync/sections.h"

namespace eltrix::sync {

using nlohmann::json;

std::map<std::string, json> room_receipts(storage::Transaction& tx, const std::string& user_id,
                                          const std::vector<std::string>& room_ids,
                                          std::int64_t from, std::int64_t to,
                                          const Filter& filter) {
  std::map<std::string, json> out;
  const RoomEventFilter& ephemeral = filter.room.ephemeral;
  if (!ephemeral.matches_type("m.receipt")) return out;
  std::vector<std::string> rooms;
  rooms.reserve(room_ids.size());
  for (const auto& room : room_ids) {
    if (filter.room.matches_room(room) && ephemeral.matches_room(room)) rooms.push_back(room);
  }
  auto receipts = storage::receipts_between(tx, rooms, user_id, from, to, kMaxReceiptsPerRoom);
  for (const auto& receipt : receipts) {
    // The ephemeral filter's sender lists apply to who sent each receipt.
    if (!ephemeral.matches_sender(std::string_view(receipt.user_id))) continue;
    auto [it, inserted] =
        out.try_emplace(receipt.room_id, json{{"type", "m.receipt"}, {"content", json::object()}});
    json entry{{"ts", receipt.ts}};
    if (!receipt.thread_id.empty()) entry["thread_id"] = receipt.thread_id;
    // One entry per (user, type, thread) is stored; two threads of one user
    // on the same event keep the newer (receipts come newest first).
    json& users = it->second["content"][receipt.event_id][receipt.receipt_type];
    if (!users.contains(receipt.user_id)) users[receipt.user_id] = std::move(entry);
  }
  return out;
}

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
