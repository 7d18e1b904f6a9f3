#include "sync/providers.h"

#include "sync/sections.h"

#include <algorithm>

namespace eltrix::sync {

using nlohmann::json;

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

namespace {

/// Typing has its own position, the typing serial (sync/sync_deps.h): it
/// lives in memory and never touches the shared stream.
class TypingProvider final : public StreamProvider {
 public:
  [[nodiscard]] std::string_view name() const override { return "typing"; }

  void current_position(SyncState& sync, SyncToken& to) const override {
    // Typing serials are hybrid clocks comparable across nodes and restarts
    // (services/typing_state.h), so a token from another node is taken as it
    // is: what changed here after it was issued shows, nothing earlier
    // repeats. Never behind the token we were given (another node's clock
    // may lead).
    to.typing = std::max(sync.deps.typing.serial(), sync.since().typing);
  }

  bool has_updates(SyncState& sync) const override {
    // Every room's last change is at most the serial.
    return sync.deps.typing.serial() > sync.since().typing;
  }

  bool write(SyncState& sync, SyncResponse& response) const override {
    const std::uint64_t since = sync.since().typing;
    bool wrote = false;
    for (const auto& room_id : sync.joined_rooms()) {
      auto typing = sync::room_typing(sync.deps.typing, room_id, since);
      if (!typing) continue;
      // An initial sync only needs typing when someone is typing.
      if (sync.initial() && (*typing)["content"]["user_ids"].empty()) continue;
      response.joined_room(room_id)["ephemeral"]["events"].push_back(std::move(*typing));
      wrote = true;
    }
    return wrote;
  }
};

}  // namespace

std::unique_ptr<StreamProvider> typing_provider() {
  return std::make_unique<TypingProvider>();
}

}  // namespace eltrix::sync
