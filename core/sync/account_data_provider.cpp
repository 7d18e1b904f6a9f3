#include "sync/providers.h"

#include "storage/user_data.h"
#include "sync/sections.h"

namespace eltrix::sync {

using nlohmann::json;

namespace {

/// Account data as an event ({"type", "content"}); content that no longer
/// parses (it was stored from a parsed body, so it should not happen) is sent
/// as {} rather than failing the whole sync.
json account_data_event(const storage::AccountData& row) {
  json content = json::parse(row.content, nullptr, false);
  if (content.is_discarded()) content = json::object();
  return json{{"type", row.type}, {"content", std::move(content)}};
}

/// Account data rows are newest-last; a client-given limit keeps the newest.
void keep_newest(json& events, std::size_t limit) {
  if (events.size() > limit) {
    events.erase(events.begin(),
                 events.begin() + static_cast<std::ptrdiff_t>(events.size() - limit));
  }
}

}  // namespace

json global_account_data(storage::Transaction& tx, const std::string& user_id, std::int64_t from,
                         std::int64_t to, const Filter& filter) {
  json events = json::array();
  // An EventFilter limit of 0 asks for nothing: skip the query.
  std::size_t limit = filter.account_data.limit_or(kMaxAccountDataEvents, kMaxAccountDataEvents);
  if (limit == 0) return json{{"events", std::move(events)}};
  for (const auto& row :
       storage::global_account_data_between(tx, user_id, from, to, kMaxAccountDataEvents)) {
    json event = account_data_event(row);
    if (filter.account_data.matches(event)) events.push_back(std::move(event));
  }
  keep_newest(events, limit);
  return json{{"events", std::move(events)}};
}

std::map<std::string, json> room_account_data(storage::Transaction& tx, const std::string& user_id,
                                              const std::vector<std::string>& room_ids,
                                              std::int64_t from, std::int64_t to,
                                              const Filter& filter) {
  std::map<std::string, json> out;
  const RoomEventFilter& section = filter.room.account_data;
  std::vector<std::string> rooms;
  rooms.reserve(room_ids.size());
  for (const auto& room : room_ids) {
    if (filter.room.matches_room(room) && section.matches_room(room)) rooms.push_back(room);
  }
  std::size_t limit = section.limit_or(kMaxAccountDataEvents, kMaxAccountDataEvents);
  if (rooms.empty() || limit == 0) return out;
  for (const auto& row :
       storage::room_account_data_between(tx, user_id, rooms, from, to, kMaxAccountDataEvents)) {
    json event = account_data_event(row);
    if (!section.matches(event)) continue;
    auto [it, inserted] = out.try_emplace(row.room_id, json{{"events", json::array()}});
    it->second["events"].push_back(std::move(event));
  }
  for (auto& [room, section_json] : out) keep_newest(section_json["events"], limit);
  return out;
}

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
