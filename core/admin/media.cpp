// Media: Synapse's media admin API (docs/admin-api.md, "Media"): a user's
// media, a room's media, quarantine, protection, deletion (one item, a
// user's, or local media older than a date) and the remote media cache.
// Deletion goes through the media-store plugin (media/media_admin.h), so it
// works the same for fs and s3.
#include "admin/areas.h"
#include "admin/params.h"
#include "matrix/ids.h"
#include "matrix/json_text.h"
#include "media/media_admin.h"
#include "storage/accounts.h"
#include "storage/admin_rooms.h"

#include <map>
#include <set>

namespace eltrix::admin {
namespace {

/// Events of a room scanned for media: the newest this many.
constexpr std::int64_t kMaxRoomEventsScanned = 10000;
/// Media deleted per batch by POST /media/delete.
constexpr std::size_t kDeleteBatch = 500;

const std::map<std::string, media::MediaOrder, std::less<>>& media_orders() {
  using O = media::MediaOrder;
  static const std::map<std::string, O, std::less<>> orders = {
      {"media_id", O::media_id},
      {"upload_name", O::upload_name},
      {"created_ts", O::created_ts},
      {"last_access_ts", O::last_access_ts},
      {"media_length", O::media_length},
      {"media_type", O::media_type},
      {"quarantined_by", O::quarantined_by},
      {"safe_from_quarantine", O::safe_from_quarantine},
  };
  return orders;
}

nlohmann::json media_json(const media::AdminMedia& m) {
  auto or_null = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"media_id", m.media_id},
          {"media_type", m.media_type},
          {"media_length", m.media_length},
          {"upload_name", or_null(m.upload_name)},
          {"created_ts", m.created_ts},
          {"last_access_ts", or_null(m.last_access_ts)},
          {"quarantined_by", or_null(m.quarantined_by)},
          {"safe_from_quarantine", m.safe_from_quarantine}};
}

/// A local user who exists.
std::string existing_local_user(Context& ctx, const http::Request& req) {
  std::string user_id = local_user_param(ctx, req);
  const bool exists =
      ctx.db.read([&](storage::Transaction& tx) { return storage::user_exists(tx, user_id); });
  if (!exists) throw not_found("Unknown user");
  return user_id;
}

/// {serverName}/{mediaId} of local media.
std::string local_media_param(Context& ctx, const http::Request& req) {
  if (req.path_param("serverName") != ctx.server_name) {
    throw invalid_param("Can only act on local media");
  }
  std::string id(req.path_param("mediaId"));
  if (id.empty() || id.size() > 255 ||
      id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
          std::string::npos) {
    throw invalid_param("Invalid media ID");
  }
  return id;
}

http::Response list_user_media(Context& ctx, http::Request& req) {
  const std::string user_id = existing_local_user(ctx, req);
  const Page page = query_page(req);
  auto order = media::MediaOrder::created_ts;
  if (auto name = req.query("order_by")) {
    auto it = media_orders().find(*name);
    if (it == media_orders().end()) throw invalid_param("Unknown value for order_by: " + *name);
    order = it->second;
  }
  auto result = media::list_user_media(ctx.media, user_id, page.from, page.limit, order,
                                       query_backwards(req));
  nlohmann::json items = nlohmann::json::array();
  for (const auto& m : result.media) items.push_back(media_json(m));
  nlohmann::json out = {{"media", items}, {"total", result.total}};
  const std::int64_t next = page.from + static_cast<std::int64_t>(result.media.size());
  if (!result.media.empty() && next < result.total) out["next_token"] = next;
  return http::Response::json(200, out);
}

nlohmann::json deleted_json(const std::vector<std::string>& ids) {
  return {{"deleted_media", ids}, {"total", ids.size()}};
}

/// The mxc:// URIs an event's content names (url, info.thumbnail_url).
void collect_mxc(const nlohmann::json& content, std::set<std::string>& out) {
  if (!content.is_object()) return;
  auto take = [&](const nlohmann::json& v) {
    if (v.is_string() && v.get<std::string>().rfind("mxc://", 0) == 0) {
      out.insert(v.get<std::string>());
    }
  };
  if (auto it = content.find("url"); it != content.end()) take(*it);
  if (auto info = content.find("info"); info != content.end() && info->is_object()) {
    if (auto it = info->find("thumbnail_url"); it != info->end()) take(*it);
  }
}

/// The local and remote media a room's events name.
std::pair<std::vector<std::string>, std::vector<std::string>> room_media(
    Context& ctx, const std::string& room_id) {
  auto pdus = ctx.db.read([&](storage::Transaction& tx) {
    return storage::pdus_with_media(tx, room_id, kMaxRoomEventsScanned);
  });
  std::set<std::string> uris;
  for (const auto& text : pdus) {
    nlohmann::json pdu;
    if (!matrix::parse_json(text, pdu) || !pdu.is_object()) continue;
    if (auto content = pdu.find("content"); content != pdu.end()) collect_mxc(*content, uris);
  }
  std::vector<std::string> local;
  std::vector<std::string> remote;
  const std::string prefix = "mxc://" + ctx.server_name + "/";
  for (const auto& uri : uris) (uri.rfind(prefix, 0) == 0 ? local : remote).push_back(uri);
  return {local, remote};
}

std::vector<std::string> ids_of(const std::vector<std::string>& uris, const std::string& server) {
  std::vector<std::string> out;
  out.reserve(uris.size());
  const std::string prefix = "mxc://" + server + "/";
  for (const auto& uri : uris) out.push_back(uri.substr(prefix.size()));
  return out;
}

http::Response user_media_statistics(Context& ctx, http::Request& req) {
  media::StatisticsQuery query;
  const Page page = query_page(req);
  query.from = page.from;
  query.limit = page.limit;
  if (auto order = req.query("order_by")) {
    static const std::map<std::string, media::StatisticOrder, std::less<>> orders = {
        {"user_id", media::StatisticOrder::user_id},
        {"displayname", media::StatisticOrder::displayname},
        {"media_length", media::StatisticOrder::media_length},
        {"media_count", media::StatisticOrder::media_count}};
    auto it = orders.find(*order);
    if (it == orders.end()) throw invalid_param("Unknown value for order_by: " + *order);
    query.order = it->second;
  }
  query.backwards = query_backwards(req);
  if (req.query("from_ts")) query.from_ts = query_int(req, "from_ts", 0);
  if (req.query("until_ts")) query.until_ts = query_int(req, "until_ts", 0);
  if (auto term = req.query("search_term")) {
    if (term->empty() || term->size() > 256) {
      throw invalid_param("search_term must be 1 to 256 bytes");
    }
    query.search_term = *term;
  }
  auto result = media::user_media_statistics(ctx.media, query);
  nlohmann::json users = nlohmann::json::array();
  for (const auto& u : result.users) {
    users.push_back(
        {{"user_id", u.user_id},
         {"displayname", u.displayname ? nlohmann::json(*u.displayname) : nlohmann::json(nullptr)},
         {"media_count", u.media_count},
         {"media_length", u.media_length}});
  }
  nlohmann::json out = {{"users", users}, {"total", result.total}};
  const std::int64_t next = query.from + static_cast<std::int64_t>(result.users.size());
  if (!result.users.empty() && next < result.total) out["next_token"] = next;
  return http::Response::json(200, out);
}

http::Response delete_old_media(Context& ctx, http::Request& req) {
  auto before = req.query("before_ts");
  if (!before) throw http::MatrixError(400, "M_MISSING_PARAM", "before_ts is required");
  const std::int64_t before_ts = query_int(req, "before_ts", 0);
  const std::int64_t size_gt = query_int(req, "size_gt", 0);
  const bool keep_profiles = query_bool(req, "keep_profiles").value_or(true);
  std::vector<std::string> deleted;
  for (;;) {
    auto batch = media::old_media(ctx.media, before_ts, size_gt, keep_profiles, kDeleteBatch);
    if (batch.empty()) break;
    auto gone = media::delete_media(ctx.media, batch);
    deleted.insert(deleted.end(), gone.begin(), gone.end());
    if (batch.size() < kDeleteBatch || gone.empty()) break;
  }
  return http::Response::json(200, deleted_json(deleted));
}

}  // namespace

void add_media_routes(http::Router& router, Context& ctx) {
  const AreaRoutes on(router, ctx);
  using enum http::BodyMode;
  on("GET", "/_synapse/admin/v1/users/{userId}/media", list_user_media, none);
  on("GET", "/_synapse/admin/v1/statistics/users/media", user_media_statistics, none);
  on(
      "DELETE", "/_synapse/admin/v1/users/{userId}/media",
      [](Context& c, http::Request& r) {
        const std::string user_id = existing_local_user(c, r);
        return http::Response::json(200, deleted_json(media::delete_media(
                                             c.media, media::media_of_user(c.media, user_id))));
      },
      none);
  on(
      "GET", "/_synapse/admin/v1/room/{roomId}/media",
      [](Context& c, http::Request& r) {
        auto [local, remote] = room_media(c, room_param(r));
        return http::Response::json(200, nlohmann::json{{"local", local}, {"remote", remote}});
      },
      none);
  on(
      "POST", "/_synapse/admin/v1/room/{roomId}/media/quarantine",
      [](Context& c, http::Request& r) {
        auto media = room_media(c, room_param(r));
        const auto n = media::set_quarantine(c.media, ids_of(media.first, c.server_name),
                                             r.requester().user_id);
        return http::Response::json(200, nlohmann::json{{"num_quarantined", n}});
      },
      raw);
  on(
      "POST", "/_synapse/admin/v1/user/{userId}/media/quarantine",
      [](Context& c, http::Request& r) {
        const std::string user_id = local_user_param(c, r);
        const auto n = media::set_quarantine(c.media, media::media_of_user(c.media, user_id),
                                             r.requester().user_id);
        return http::Response::json(200, nlohmann::json{{"num_quarantined", n}});
      },
      raw);
  on(
      "POST", "/_synapse/admin/v1/media/quarantine/{serverName}/{mediaId}",
      [](Context& c, http::Request& r) {
        media::set_quarantine(c.media, {local_media_param(c, r)}, r.requester().user_id);
        return http::Response::json(200, nlohmann::json::object());
      },
      raw);
  on(
      "POST", "/_synapse/admin/v1/media/unquarantine/{serverName}/{mediaId}",
      [](Context& c, http::Request& r) {
        media::set_quarantine(c.media, {local_media_param(c, r)}, std::nullopt);
        return http::Response::json(200, nlohmann::json::object());
      },
      raw);
  for (const auto& [path, safe] :
       {std::pair{"/_synapse/admin/v1/media/protect/{mediaId}", true},
        std::pair{"/_synapse/admin/v1/media/unprotect/{mediaId}", false}}) {
    on(
        "POST", path,
        [safe = safe](Context& ctx, http::Request& req) {
          if (!media::set_protected(ctx.media, std::string(req.path_param("mediaId")), safe)) {
            throw not_found("Unknown media");
          }
          return http::Response::json(200, nlohmann::json::object());
        },
        raw);
  }
  on(
      "DELETE", "/_synapse/admin/v1/media/{serverName}/{mediaId}",
      [](Context& c, http::Request& r) {
        auto gone = media::delete_media(c.media, {local_media_param(c, r)});
        if (gone.empty()) throw not_found("Unknown media");
        return http::Response::json(200, deleted_json(gone));
      },
      none);
  on("POST", "/_synapse/admin/v1/media/delete", delete_old_media, raw);
  on(
      "POST", "/_synapse/admin/v1/media/{serverName}/delete",
      [](Context& c, http::Request& r) {
        if (r.path_param("serverName") != c.server_name) {
          throw invalid_param("Can only delete local media");
        }
        return delete_old_media(c, r);
      },
      raw);
  // Eltrix keeps no copies of other servers' media yet (no federation media
  // fetching), so the remote cache is always empty.
  on(
      "POST", "/_synapse/admin/v1/purge_media_cache",
      [](Context&, http::Request& r) {
        if (!r.query("before_ts")) {
          throw http::MatrixError(400, "M_MISSING_PARAM", "before_ts is required");
        }
        (void)query_int(r, "before_ts", 0);
        return http::Response::json(200, nlohmann::json{{"deleted", 0}});
      },
      raw);
}

}  // namespace eltrix::admin
