#include "media/media_admin.h"

#include "log/log.h"
#include "media/media_id.h"

#include <fmt/format.h>

namespace eltrix::media {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("media");
  return instance;
}

const char* order_column(MediaOrder order) {
  switch (order) {
    case MediaOrder::media_id: return "media_id";
    case MediaOrder::upload_name: return "upload_name";
    case MediaOrder::created_ts: return "created_ts";
    case MediaOrder::last_access_ts: return "last_access_ts";
    case MediaOrder::media_length: return "size";
    case MediaOrder::media_type: return "content_type";
    case MediaOrder::quarantined_by: return "quarantined_by";
    case MediaOrder::safe_from_quarantine: return "safe_from_quarantine";
  }
  return "created_ts";
}

/// Text array literal for = ANY($n::text[]) (IDs are [A-Za-z0-9_-] or
/// refused before they get here, but quote anyway).
std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace

MediaPage list_user_media(MediaService& media, const std::string& user_id, std::int64_t from,
                          std::int64_t limit, MediaOrder order, bool backwards) {
  const std::string server = media.settings().server_name;
  return media.db().read([&](storage::Transaction& tx) {
    MediaPage page;
    const char* dir = backwards ? "DESC" : "ASC";
    const std::string sql = fmt::format(
        "SELECT media_id, content_type, size, upload_name, created_ts, last_access_ts, "
        "quarantined_by, safe_from_quarantine FROM media "
        "WHERE server_name = $1 AND uploader = $2 AND uploaded_ts IS NOT NULL "
        "ORDER BY {} {} NULLS LAST, media_id {} OFFSET $3 LIMIT $4",
        order_column(order), dir, dir);
    for (const auto& row : tx.exec(sql, server, user_id, from, limit)) {
      page.media.push_back({.media_id = row[0].as<std::string>(),
                            .media_type = row[1].as<std::string>(),
                            .media_length = row[2].as<std::int64_t>(),
                            .upload_name = storage::nullable<std::string>(row[3]),
                            .created_ts = row[4].as<std::int64_t>(),
                            .last_access_ts = storage::nullable<std::int64_t>(row[5]),
                            .quarantined_by = storage::nullable<std::string>(row[6]),
                            .safe_from_quarantine = row[7].as<bool>()});
    }
    page.total = tx.exec1(
                       "SELECT count(*) FROM media WHERE server_name = $1 AND uploader = $2 "
                       "AND uploaded_ts IS NOT NULL",
                       server, user_id)[0]
                     .as<std::int64_t>();
    return page;
  });
}

std::size_t set_quarantine(MediaService& media, const std::vector<std::string>& media_ids,
                           const std::optional<std::string>& by) {
  if (media_ids.empty()) return 0;
  return media.db().write([&](storage::Transaction& tx) {
    return tx.exec0(
        "UPDATE media SET quarantined_by = $3 WHERE server_name = $1 "
        "AND media_id = ANY($2::text[]) AND ($3::text IS NULL OR NOT safe_from_quarantine)",
        media.settings().server_name, text_array(media_ids), by);
  });
}

std::vector<std::string> media_of_user(MediaService& media, const std::string& user_id) {
  return media.db().read([&](storage::Transaction& tx) {
    std::vector<std::string> out;
    for (const auto& row :
         tx.exec("SELECT media_id FROM media WHERE server_name = $1 AND uploader = $2",
                 media.settings().server_name, user_id)) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  });
}

bool set_protected(MediaService& media, const std::string& media_id, bool safe) {
  return media.db().write([&](storage::Transaction& tx) {
    return tx.exec0(
               "UPDATE media SET safe_from_quarantine = $3 WHERE server_name = $1 "
               "AND media_id = $2",
               media.settings().server_name, media_id, safe) == 1;
  });
}

std::vector<std::string> delete_media(MediaService& media, const std::vector<std::string>& ids) {
  const std::string server = media.settings().server_name;
  if (ids.empty()) return {};
  struct Removed {
    std::vector<std::string> ids;
    std::vector<std::string> keys;
  };
  // Rows first: once they are gone nothing serves the media, and an object
  // left behind by a failed erase is an orphan the sweep collects.
  auto removed = media.db().write([&](storage::Transaction& tx) {
    Removed out;
    for (const auto& row : tx.exec(
             "DELETE FROM media_thumbnails WHERE server_name = $1 AND media_id = ANY($2::text[]) "
             "RETURNING media_id, width, height, method",
             server, text_array(ids))) {
      out.keys.push_back(thumbnail_key(server, row[0].as<std::string>(), row[1].as<int>(),
                                       row[2].as<int>(), row[3].as<std::string>()));
    }
    for (const auto& row :
         tx.exec("DELETE FROM media WHERE server_name = $1 AND media_id = ANY($2::text[]) "
                 "RETURNING media_id, uploaded_ts IS NOT NULL",
                 server, text_array(ids))) {
      out.ids.push_back(row[0].as<std::string>());
      if (row[1].as<bool>()) out.keys.push_back(media_key(server, row[0].as<std::string>()));
    }
    return out;
  });
  for (const auto& key : removed.keys) {
    try {
      media.store().erase(key);
    } catch (const std::exception& e) {
      logger().warn("could not erase deleted media from the store; the orphan sweep will",
                    {{"key", key}, {"error", e.what()}});
    }
  }
  logger().info("media deleted", {{"count", std::to_string(removed.ids.size())}});
  return removed.ids;
}

std::vector<std::string> old_media(MediaService& media, std::int64_t before_ts,
                                   std::int64_t size_gt, bool keep_profiles, std::size_t limit) {
  return media.db().read([&](storage::Transaction& tx) {
    std::vector<std::string> out;
    for (const auto& row :
         tx.exec("SELECT media_id FROM media WHERE server_name = $1 AND created_ts < $2 "
                 "AND coalesce(size, 0) > $3 AND NOT safe_from_quarantine "
                 "AND NOT ($5 AND EXISTS (SELECT 1 FROM users u "
                 "  WHERE u.avatar_url = 'mxc://' || $1 || '/' || media.media_id)) "
                 "ORDER BY created_ts LIMIT $4",
                 media.settings().server_name, before_ts, size_gt, static_cast<std::int64_t>(limit),
                 keep_profiles)) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  });
}

StatisticsPage user_media_statistics(MediaService& media, const StatisticsQuery& query) {
  const char* column = "m.uploader";
  switch (query.order) {
    case StatisticOrder::displayname: column = "u.displayname"; break;
    case StatisticOrder::media_length: column = "media_length"; break;
    case StatisticOrder::media_count: column = "media_count"; break;
    case StatisticOrder::user_id: break;
  }
  const char* dir = query.backwards ? "DESC" : "ASC";
  // $1 server, $2 from_ts, $3 until_ts, $4 search term (strpos: no LIKE
  // escapes).
  const std::string grouped =
      "SELECT m.uploader AS user_id, u.displayname, count(*) AS media_count, "
      "coalesce(sum(m.size), 0)::bigint AS media_length FROM media m "
      "LEFT JOIN users u ON u.user_id = m.uploader "
      "WHERE m.server_name = $1 AND m.uploaded_ts IS NOT NULL "
      "AND ($2::bigint IS NULL OR m.created_ts >= $2) "
      "AND ($3::bigint IS NULL OR m.created_ts <= $3) "
      "AND ($4::text IS NULL OR strpos(lower(m.uploader), lower($4)) > 0 "
      "  OR strpos(lower(coalesce(u.displayname, '')), lower($4)) > 0) "
      "GROUP BY m.uploader, u.displayname";
  return media.db().read([&](storage::Transaction& tx) {
    StatisticsPage page;
    const std::string server = media.settings().server_name;
    for (const auto& row : tx.exec(
             fmt::format("{} ORDER BY {} {} NULLS LAST, m.uploader {} OFFSET $5 LIMIT $6", grouped,
                         column, dir, dir),
             server, query.from_ts, query.until_ts, query.search_term, query.from, query.limit)) {
      page.users.push_back({.user_id = row[0].as<std::string>(),
                            .displayname = storage::nullable<std::string>(row[1]),
                            .media_count = row[2].as<std::int64_t>(),
                            .media_length = row[3].as<std::int64_t>()});
    }
    page.total = tx.exec1("SELECT count(*) FROM (" + grouped + ") g", server, query.from_ts,
                          query.until_ts, query.search_term)[0]
                     .as<std::int64_t>();
    return page;
  });
}

}  // namespace eltrix::media
