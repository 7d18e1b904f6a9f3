// Event reports (Synapse's /_synapse/admin/v1/event_reports): list, get one
// (with the reported event), delete. Reports come from the Client-Server
// API's POST /rooms/{roomId}/report/{eventId} (client/report.h).
#include "storage/event_reports.h"
#include "admin/areas.h"
#include "admin/params.h"
#include "matrix/json_text.h"

#include <charconv>

namespace eltrix::admin {
namespace {

nlohmann::json report_json(const storage::EventReport& r) {
  auto or_null = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"id", r.id},
          {"received_ts", r.received_ts},
          {"room_id", r.room_id},
          {"name", or_null(r.room_name)},
          {"canonical_alias", or_null(r.canonical_alias)},
          {"event_id", r.event_id},
          {"user_id", r.user_id},
          {"reason", or_null(r.reason)},
          {"score", or_null(r.score)},
          {"sender", or_null(r.sender)}};
}

std::int64_t report_id(const http::Request& req) {
  const std::string text(req.path_param("reportId"));
  std::int64_t id = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty() || id < 0) {
    throw invalid_param(
        "The report_id parameter must be a string representing a positive "
        "integer.");
  }
  return id;
}

http::Response list(Context& ctx, http::Request& req) {
  storage::EventReportQuery query;
  const Page page = query_page(req);
  query.from = page.from;
  query.limit = page.limit;
  // Newest first unless dir=f, as Synapse lists them.
  auto dir = req.query("dir");
  if (dir && *dir != "f" && *dir != "b") {
    throw invalid_param("Query parameter dir must be one of ['b', 'f']");
  }
  query.oldest_first = dir && *dir == "f";
  query.room_id = req.query("room_id");
  query.user_id = req.query("user_id");
  auto result =
      ctx.db.read([&](storage::Transaction& tx) { return storage::list_event_reports(tx, query); });
  nlohmann::json reports = nlohmann::json::array();
  for (const auto& r : result.reports) reports.push_back(report_json(r));
  nlohmann::json out = {{"event_reports", reports}, {"total", result.total}};
  const std::int64_t next = query.from + static_cast<std::int64_t>(result.reports.size());
  if (!result.reports.empty() && next < result.total) out["next_token"] = next;
  return http::Response::json(200, out);
}

http::Response get_one(Context& ctx, http::Request& req) {
  const std::int64_t id = report_id(req);
  auto report =
      ctx.db.read([&](storage::Transaction& tx) { return storage::find_event_report(tx, id); });
  if (!report) throw not_found("Event report not found");
  nlohmann::json out = report_json(*report);
  nlohmann::json event = nullptr;
  if (report->event_pdu && !matrix::parse_json(*report->event_pdu, event)) event = nullptr;
  if (event.is_object()) event["event_id"] = report->event_id;
  out["event_json"] = event;
  return http::Response::json(200, out);
}

http::Response remove(Context& ctx, http::Request& req) {
  const std::int64_t id = report_id(req);
  const bool found =
      ctx.db.write([&](storage::Transaction& tx) { return storage::delete_event_report(tx, id); });
  if (!found) throw not_found("Event report not found");
  return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_event_report_routes(http::Router& router, Context& ctx) {
  const AreaRoutes on(router, ctx);
  on("GET", "/_synapse/admin/v1/event_reports", list);
  on("GET", "/_synapse/admin/v1/event_reports/{reportId}", get_one);
  on("DELETE", "/_synapse/admin/v1/event_reports/{reportId}", remove);
}

}  // namespace eltrix::admin
