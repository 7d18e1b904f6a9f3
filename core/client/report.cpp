#include "client/report.h"

#include "client/auth.h"
#include "client/json_body.h"
#include "log/log.h"
#include "storage/accounts.h"
#include "storage/directory.h"
#include "storage/event_reports.h"

namespace eltrix::client {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("report");
  return instance;
}

/// Longest reason kept, in bytes.
constexpr std::size_t kMaxReasonBytes = 4096;

http::Response post_report(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string room_id(req.path_param("roomId"));
  const std::string event_id(req.path_param("eventId"));
  const nlohmann::json& body = req.json();
  auto reason = optional_string(body, "reason");
  if (reason && reason->size() > kMaxReasonBytes) {
    throw invalid_param("reason is longer than " + std::to_string(kMaxReasonBytes) + " bytes");
  }
  auto score = optional_int(body, "score");
  // The spec's range (deprecated, but still sent by clients).
  if (score && (*score < -100 || *score > 0)) {
    throw invalid_param("score must be an integer in the range [-100, 0]");
  }
  const bool stored = ctx.db.write([&](storage::Transaction& tx) {
    auto membership = storage::membership_of(tx, room_id, who.user_id);
    if (!membership || *membership != "join" || !storage::event_in_room(tx, room_id, event_id)) {
      return false;
    }
    storage::insert_event_report(tx, {.room_id = room_id,
                                      .event_id = event_id,
                                      .user_id = who.user_id,
                                      .reason = reason,
                                      .score = score,
                                      .content_json = body.dump(),
                                      .received_ts = storage::now_ms()});
    return true;
  });
  if (!stored) {
    throw http::MatrixError(
        404, "M_NOT_FOUND",
        "Unable to report event: it does not exist or you aren't able to see it.");
  }
  logger().info("event reported",
                {{"user_id", who.user_id}, {"room_id", room_id}, {"event_id", event_id}});
  return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_report_routes(http::Router& router, Context& ctx) {
  router.add("POST", "/_matrix/client/v3/rooms/{roomId}/report/{eventId}",
             [&ctx](http::Request& req) { return post_report(ctx, req); },
             {.body = http::BodyMode::json, .max_body = 64 * 1024});
}

}  // namespace eltrix::client
