#include "sync/sections.h"

#include "storage/database.h"
#include "storage/user_data.h"
#include "sync/presence_content.h"

#include <nlohmann/json.hpp>

#include <chrono>

namespace eltrix::sync {

using nlohmann::json;

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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

std::optional<json> room_typing(TypingSource& typing, const std::string& room_id,
                                std::uint64_t since_serial, const Filter& filter) {
  const RoomEventFilter& ephemeral = filter.room.ephemeral;
  if (!ephemeral.matches_type("m.typing") || !filter.room.matches_room(room_id) ||
      !ephemeral.matches_room(room_id)) {
    return std::nullopt;
  }
  auto content = typing.typing_since(room_id, since_serial);
  if (!content) return std::nullopt;
  // An initial sync has nothing to replace: an empty list is noise there.
  if (since_serial == 0 && (*content)["user_ids"].empty()) return std::nullopt;
  return json{{"type", "m.typing"}, {"content", std::move(*content)}};
}

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
  std::int64_t now = now_ms();
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

std::string mention_pattern(const std::vector<std::string>& words) {
  std::string alternatives;
  for (const auto& word : words) {
    if (word.empty()) continue;
    if (!alternatives.empty()) alternatives += '|';
    for (char c : word) {
      // Escape everything that is special in an ARE, so a display name like
      // "a.b (c)" is matched literally.
      if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) {
        alternatives += '\\';
      }
      alternatives += c;
    }
  }
  if (alternatives.empty()) return {};
  // "Whole word": not preceded or followed by a word character. \m and \M
  // would need the name itself to start and end with word characters.
  return "(^|\\W)(" + alternatives + ")(\\W|$)";
}

std::map<std::string, json> unread_notifications(storage::Transaction& tx,
                                                 const std::string& user_id,
                                                 const std::vector<std::string>& room_ids,
                                                 std::int64_t to) {
  std::map<std::string, json> out;
  if (room_ids.empty()) return out;
  std::vector<std::string> words;
  // The localpart: "@alice:example.org" -> "alice".
  if (auto colon = user_id.find(':'); user_id.size() > 1 && colon != std::string::npos) {
    words.push_back(user_id.substr(1, colon - 1));
  }
  auto profiles = storage::profiles_of(tx, {user_id});
  if (auto it = profiles.find(user_id); it != profiles.end() && it->second.displayname) {
    words.push_back(*it->second.displayname);
  }
  auto counts =
      storage::unread_counts(tx, user_id, room_ids, to, mention_pattern(words), kMaxUnreadCounted);
  for (const auto& room : room_ids) {
    auto it = counts.find(room);
    storage::UnreadCounts c = it == counts.end() ? storage::UnreadCounts{} : it->second;
    out[room] = json{{"notification_count", c.notifications}, {"highlight_count", c.highlights}};
  }
  return out;
}

}  // namespace eltrix::sync
