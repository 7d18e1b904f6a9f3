// The media repository's operations for the admin API (core/admin/media.cpp):
// listing a user's media, quarantine and protection, and deleting media,
// one item or local media older than a date. Deleting removes the rows
// first, then the objects through the media-store plugin (so fs and s3
// alike); an object whose erase fails has no row left and is collected by
// the orphan sweep (media/orphan_sweep.h).
#pragma once

#include "media/media_service.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eltrix::media {

struct AdminMedia {
  std::string media_id;
  std::string media_type;
  std::int64_t media_length = 0;
  std::optional<std::string> upload_name;
  std::int64_t created_ts = 0;
  std::optional<std::int64_t> last_access_ts;
  std::optional<std::string> quarantined_by;
  bool safe_from_quarantine = false;
};

enum class MediaOrder {
  media_id,
  upload_name,
  created_ts,
  last_access_ts,
  media_length,
  media_type,
  quarantined_by,
  safe_from_quarantine,
};

struct MediaPage {
  std::vector<AdminMedia> media;
  std::int64_t total = 0;
};

/// The user's uploaded media on this server.
MediaPage list_user_media(MediaService& media, const std::string& user_id, std::int64_t from,
                          std::int64_t limit, MediaOrder order, bool backwards);

/// Quarantines (`by` set) or releases (`by` none) local media. Media kept
/// safe from quarantine is not quarantined. Returns how many rows changed.
std::size_t set_quarantine(MediaService& media, const std::vector<std::string>& media_ids,
                           const std::optional<std::string>& by);

/// Every local media ID `user_id` uploaded.
std::vector<std::string> media_of_user(MediaService& media, const std::string& user_id);

/// Marks media safe from quarantine, or not; false when unknown.
bool set_protected(MediaService& media, const std::string& media_id, bool safe);

/// Deletes local media (rows, thumbnails, stored objects). Returns the IDs
/// that existed.
std::vector<std::string> delete_media(MediaService& media, const std::vector<std::string>& ids);

/// Local media created before `before_ts` (ms) and larger than `size_gt`
/// bytes, at most `limit` of them, oldest first; media kept safe from
/// quarantine is kept, and with `keep_profiles` media a user has as avatar.
std::vector<std::string> old_media(MediaService& media, std::int64_t before_ts,
                                   std::int64_t size_gt, bool keep_profiles, std::size_t limit);

/// One row of GET /_synapse/admin/v1/statistics/users/media.
struct UserMediaStatistic {
  std::string user_id;
  std::optional<std::string> displayname;
  std::int64_t media_count = 0;
  std::int64_t media_length = 0;
};

enum class StatisticOrder { user_id, displayname, media_length, media_count };

struct StatisticsQuery {
  std::int64_t from = 0;
  std::int64_t limit = 100;
  StatisticOrder order = StatisticOrder::user_id;
  bool backwards = false;
  std::optional<std::int64_t> from_ts;
  std::optional<std::int64_t> until_ts;
  /// Substring of the user ID or the display name.
  std::optional<std::string> search_term;
};

struct StatisticsPage {
  std::vector<UserMediaStatistic> users;
  std::int64_t total = 0;
};

/// Local uploaders with how many media they uploaded and how many bytes.
StatisticsPage user_media_statistics(MediaService& media, const StatisticsQuery& query);

}  // namespace eltrix::media
