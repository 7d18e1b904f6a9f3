// The unread_notifications of each joined room in a response (written by the
// rooms provider's finish()).
#include "storage/user_data.h"
#include "sync/sections.h"

namespace eltrix::sync {

using nlohmann::json;

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
