#include "client/room_timestamp.h"

#include "client/json_body.h"
#include "client/room_access.h"
#include "rooms/event_at_timestamp.h"
#include "rooms/visibility.h"

#include <charconv>

namespace eltrix::client {

namespace {

http::Response timestamp_to_event(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string room_id = room_id_param(req);
  auto ts_text = req.query("ts");
  if (!ts_text) throw http::MatrixError(400, "M_MISSING_PARAM", "'ts' is required");
  std::int64_t ts = 0;
  auto [ptr, ec] = std::from_chars(ts_text->data(), ts_text->data() + ts_text->size(), ts);
  if (ec != std::errc() || ptr != ts_text->data() + ts_text->size() || ts < 0) {
    throw invalid_param("'ts' must be a timestamp in milliseconds");
  }
  auto dir = req.query("dir");
  if (!dir) throw http::MatrixError(400, "M_MISSING_PARAM", "'dir' is required");
  if (*dir != "f" && *dir != "b") throw invalid_param("'dir' must be 'f' or 'b'");
  auto out = ctx.db.read([&](storage::Transaction& tx) {
    rooms::Visibility visibility(tx, room_id, who.user_id);
    if (!visibility.may_read_history()) {
      tx.need_primary();  // a replica may not have replayed the membership yet
      throw forbidden("You are not a member of room " + room_id);
    }
    auto event = rooms::event_at_timestamp(tx, room_id, ts, *dir == "f", visibility);
    if (!event) {
      throw not_found("No event found " + std::string(*dir == "f" ? "after" : "before") +
                      " the given timestamp");
    }
    return nlohmann::json{{"event_id", event->event_id},
                          {"origin_server_ts", event->pdu.value("origin_server_ts", ts)}};
  });
  return http::Response::json(200, out);
}

}  // namespace

void add_room_timestamp_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/_matrix/client/v1/rooms/{roomId}/timestamp_to_event",
             [&ctx](http::Request& req) { return timestamp_to_event(ctx, req); });
}

}  // namespace eltrix::client
