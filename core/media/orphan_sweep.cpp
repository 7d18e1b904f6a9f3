#include "media/orphan_sweep.h"

#include "log/log.h"
#include "media/media_id.h"
#include "storage/user_data.h"

#include <charconv>
#include <set>
#include <vector>

namespace eltrix::media {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("media");
  return instance;
}

std::int64_t wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool parse_positive(std::string_view text, int& out) {
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && out > 0;
}

/// The server_settings row that says when a node last took the sweep of a
/// shared store.
constexpr const char* kLeaseKey = "media.orphan_sweep";

}  // namespace

std::optional<OrphanCandidate> parse_store_key(std::string_view key,
                                               std::string_view server_segment) {
  OrphanCandidate out;
  std::string_view rest = key;
  constexpr std::string_view kThumbnails = "thumbnails/";
  if (rest.starts_with(kThumbnails)) {
    rest.remove_prefix(kThumbnails.size());
    out.kind = OrphanCandidate::Kind::thumbnail;
  }
  if (!rest.starts_with(server_segment) || rest.size() <= server_segment.size() ||
      rest[server_segment.size()] != '/') {
    return std::nullopt;
  }
  rest.remove_prefix(server_segment.size() + 1);
  if (out.kind == OrphanCandidate::Kind::media) {
    if (!is_issued_media_id(rest)) return std::nullopt;
    out.media_id = std::string(rest);
    return out;
  }
  // "<media id>/<w>x<h>-<method>" (thumbnail_key()).
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view media_id = rest.substr(0, slash);
  const std::string_view size = rest.substr(slash + 1);
  const auto x = size.find('x');
  const auto dash = size.find('-');
  if (!is_issued_media_id(media_id) || x == std::string_view::npos ||
      dash == std::string_view::npos || dash < x || !parse_positive(size.substr(0, x), out.width) ||
      !parse_positive(size.substr(x + 1, dash - x - 1), out.height)) {
    return std::nullopt;
  }
  out.method = std::string(size.substr(dash + 1));
  if (out.method != "scale" && out.method != "crop") return std::nullopt;
  out.media_id = std::string(media_id);
  return out;
}

OrphanSweeper::OrphanSweeper(storage::Database& db, Store& store, std::string server_name,
                             OrphanSweepOptions options, metrics::Registry& metrics)
    : db_(db),
      store_(store),
      server_name_(std::move(server_name)),
      server_segment_(server_key_segment(server_name_)),
      options_(options),
      removed_(metrics.counter("eltrix_media_orphans_removed_total",
                               "Stored media objects removed by the orphan sweep because no "
                               "media row refers to them (a crash between storing and "
                               "recording an upload).")),
      abandoned_(metrics.counter("eltrix_media_abandoned_uploads_removed_total",
                                 "Unfinished uploads (temporary files, incomplete multipart "
                                 "uploads) removed by the orphan sweep.")),
      failures_(metrics.counter("eltrix_media_orphan_sweep_failures_total",
                                "Orphan sweeps that stopped on a database or media-store "
                                "error (the next one tries again).")) {}

OrphanSweeper::~OrphanSweeper() {
  stop();
}

void OrphanSweeper::start() {
  if (options_.interval.count() == 0) return;
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void OrphanSweeper::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool OrphanSweeper::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void OrphanSweeper::loop() {
  std::unique_lock lock(mutex_);
  // Soon after start-up (a crash is often followed by a restart), then
  // every interval.
  std::chrono::milliseconds wait =
      std::min<std::chrono::milliseconds>(options_.first_delay, options_.interval);
  while (!stopping_) {
    wake_.wait_for(lock, wait, [this] { return stopping_; });
    if (stopping_) break;
    wait = options_.interval;
    lock.unlock();
    try {
      auto result = sweep_once();
      if (result.swept && (result.orphans_removed != 0 || result.abandoned_uploads != 0)) {
        logger().info("orphaned media removed",
                      {{"store", store_.name()},
                       {"objects_checked", std::to_string(result.objects_checked)},
                       {"orphans_removed", std::to_string(result.orphans_removed)},
                       {"abandoned_uploads_removed", std::to_string(result.abandoned_uploads)}});
      }
    } catch (const std::exception& e) {
      failures_.inc();
      logger().warn("orphaned media sweep failed", {{"store", store_.name()}, {"error", e.what()}});
    }
    lock.lock();
  }
}

bool OrphanSweeper::take_lease(std::int64_t now_ms) {
  if (!options_.shared_store) return true;  // every node sweeps its own store
  // One statement (safe behind PgBouncer): the row is taken when it is
  // missing or older than most of an interval, so the nodes of a cluster
  // sweep a shared store once per interval between them.
  const std::int64_t interval_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.interval).count();
  const std::int64_t taken_before = now_ms - interval_ms * 9 / 10;
  return db_.write([&](storage::Transaction& tx) {
    return tx
        .exec_optional(
            "INSERT INTO server_settings (key, value) VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now() "
            "WHERE (CASE WHEN server_settings.value ~ '^[0-9]{1,18}$' "
            "THEN server_settings.value::bigint ELSE 0 END) <= $3 "
            "RETURNING key",
            std::string(kLeaseKey), std::to_string(now_ms), taken_before)
        .has_value();
  });
}

OrphanSweepResult OrphanSweeper::sweep_once() {
  OrphanSweepResult result;
  if (!store_.can_list()) {
    if (!warned_no_listing_) {
      warned_no_listing_ = true;
      logger().warn(
          "the media store plugin cannot list its objects (built for plugin ABI 1.0); "
          "orphaned media will not be swept",
          {{"store", store_.name()}});
    }
    return result;
  }
  const std::int64_t now = wall_now_ms();
  if (!take_lease(now)) return result;
  result.swept = true;
  result.abandoned_uploads = store_.remove_abandoned_uploads(options_.min_age);
  abandoned_.inc(static_cast<double>(result.abandoned_uploads));

  const std::int64_t old_before =
      now - std::chrono::duration_cast<std::chrono::milliseconds>(options_.min_age).count();
  std::string cursor;
  do {
    if (stopping()) break;
    auto page = store_.list(cursor, options_.page_size);
    cursor = std::move(page.next_cursor);
    // Only old objects of this server's key shapes are candidates.
    std::vector<std::pair<std::string, std::string>> candidates;  // key, media id
    for (auto& object : page.objects) {
      ++result.objects_checked;
      if (object.modified_ms > old_before) continue;
      auto parsed = parse_store_key(object.key, server_segment_);
      if (!parsed) continue;
      candidates.emplace_back(std::move(object.key), std::move(parsed->media_id));
    }
    if (candidates.empty()) continue;
    std::vector<std::string> ids;
    ids.reserve(candidates.size());
    for (const auto& candidate : candidates) ids.push_back(candidate.second);
    // The primary: the state of record, never a lagging replica's view.
    // A media row that is uploaded, or pending and still usable, keeps its
    // object (and its thumbnails: a thumbnail without its own row is
    // rewritten at the same key by the next request of that size).
    const auto live = db_.read_latest([&](storage::Transaction& tx) {
      std::set<std::string, std::less<>> out;
      for (const auto& row : tx.exec("SELECT media_id FROM media WHERE server_name = $1 "
                                     "AND media_id = ANY($2::text[]) "
                                     "AND (uploaded_ts IS NOT NULL OR unused_expires_ts IS NULL "
                                     "OR unused_expires_ts > $3)",
                                     server_name_, storage::text_array(ids), now)) {
        out.insert(row[0].as<std::string>());
      }
      return out;
    });
    for (const auto& [key, media_id] : candidates) {
      if (live.contains(media_id)) continue;
      if (store_.erase(key)) {
        ++result.orphans_removed;
        removed_.inc();
        logger().info("orphaned media object removed", {{"store", store_.name()}, {"key", key}});
      }
    }
  } while (!cursor.empty());
  return result;
}

}  // namespace eltrix::media
