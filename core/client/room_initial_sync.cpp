#include "client/room_initial_sync.h"

#include "client/json_body.h"
#include "client/room_access.h"
#include "rooms/room_scan.h"
#include "rooms/topological.h"
#include "rooms/visibility.h"
#include "storage/directory.h"
#include "storage/stream.h"
#include "storage/user_data.h"

#include <algorithm>
#include <charconv>

namespace eltrix::client {

namespace {

constexpr std::size_t kDefaultLimit = 10;
constexpr std::size_t kMaxLimit = 100;
/// Room account data items returned at most (tags, read markers, ...).
constexpr std::size_t kMaxAccountData = 100;

std::size_t limit_param(const http::Request& req) {
  auto text = req.query("limit");
  if (!text) return kDefaultLimit;
  std::size_t limit = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
  if (ec != std::errc() || ptr != text->data() + text->size()) {
    throw invalid_param("'limit' must be a non-negative integer");
  }
  return std::min(limit, kMaxLimit);
}

http::Response room_initial_sync(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string room_id = room_id_param(req);
  const std::size_t limit = limit_param(req);
  const auto now = rooms::now_ms();
  auto out = ctx.db.read([&](storage::Transaction& tx) {
    // The one visibility check (rooms/visibility.h) decides everything:
    // members see the room, former members see it up to their leave, anyone
    // signed in may peek into a world_readable room; others get 403, as the
    // spec says (also for a room that does not exist, so nothing leaks).
    rooms::Visibility visibility(tx, room_id, who.user_id);
    auto state_position = visibility.state_position();
    if (!visibility.may_read_history() || !state_position) {
      tx.need_primary();  // a replica may not have replayed the membership yet
      throw forbidden("You are not a member of room " + room_id + " and it is not world readable");
    }
    const std::int64_t current = storage::current_stream(tx);
    const rooms::TopologicalKey end = rooms::topological_at_stream(tx, room_id, current);
    rooms::ScanRequest request{.room_id = room_id,
                               .topological = true,
                               .topo_from = end,
                               .topo_bound = rooms::TopologicalKey{},
                               .backwards = true,
                               .limit = limit,
                               .max_rows = ctx.max_events_scanned};
    auto page = rooms::scan_room(
        tx, request, [](const rooms::StoredEvent&) { return true; }, visibility);
    // Newest first from the scan; the chunk is oldest first, like a
    // timeline, and "start" is where /messages continues backwards.
    std::reverse(page.events.begin(), page.events.end());
    nlohmann::json chunk = nlohmann::json::array();
    for (const auto& event : page.events) {
      chunk.push_back(rooms::client_event(event, who.user_id, who.device_id, now));
    }
    nlohmann::json state = nlohmann::json::array();
    auto events = *state_position == rooms::kCurrentState
                      ? rooms::current_state(tx, room_id)
                      : rooms::state_at(tx, room_id, *state_position);
    for (const auto& event : events) {
      state.push_back(rooms::client_event(event, who.user_id, who.device_id, now));
    }
    nlohmann::json account_data = nlohmann::json::array();
    for (const auto& item : storage::room_account_data_between(tx, who.user_id, {room_id}, 0,
                                                               current, kMaxAccountData)) {
      account_data.push_back(
          {{"type", item.type}, {"content", nlohmann::json::parse(item.content, nullptr, false)}});
    }
    const auto directory = storage::get_directory_room(tx, room_id);
    nlohmann::json result = {
        {"room_id", room_id},
        {"messages",
         {{"chunk", chunk},
          {"start", rooms::format_topological_token(page.topo_cursor)},
          {"end", rooms::format_topological_token(end)}}},
        {"state", state},
        {"visibility", directory && directory->is_public ? "public" : "private"},
        {"account_data", account_data},
        // Synapse's answer carries these too, and clients that peek read
        // them as lists (matrix-js-sdk); live presence and receipts reach
        // members through /sync, so they are left empty here.
        {"presence", nlohmann::json::array()},
        {"receipts", nlohmann::json::array()}};
    // A peeking user has no membership, and the spec's field is then absent.
    if (!visibility.membership().empty()) result["membership"] = visibility.membership();
    return result;
  });
  return http::Response::json(200, out);
}

}  // namespace

void add_room_initial_sync_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/_matrix/client/v3/rooms/{roomId}/initialSync",
             [&ctx](http::Request& req) { return room_initial_sync(ctx, req); });
}

}  // namespace eltrix::client
