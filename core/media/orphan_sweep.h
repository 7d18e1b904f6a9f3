// The sweep of orphaned media. A node that dies in the middle of an upload
// leaves bytes nobody will ever serve:
//  - an unfinished upload: a temporary file (media-store-fs) or an
//    incomplete multipart upload (media-store-s3);
//  - a complete object whose media row was never written (the node died
//    between the store's put and the database insert), or whose
//    asynchronous upload (/create) expired before the PUT's row update, and
//    the thumbnails of such media. (A thumbnail of live media whose own row
//    was never written is not swept: the next request for that size writes
//    it again at the same key.)
// The sweep runs shortly after start-up and then every
// media.orphan_sweep_interval. It touches nothing younger than
// media.orphan_min_age, so uploads in progress on any node are safe, and only
// keys this server writes ("<server>/<media id>",
// "thumbnails/<server>/<media id>/<w>x<h>-<method>"). With a shared store
// (kMediaShared) one node per interval sweeps, chosen by a lease row in
// server_settings; with a per-node store every node sweeps its own.
//
// It needs a media-store plugin of ABI 1.1 or later (MediaStore::list); with
// an older one it logs that once and does nothing.
#pragma once

#include "media/store.h"
#include "metrics/registry.h"
#include "storage/database.h"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace eltrix::media {

struct OrphanSweepOptions {
  /// Between sweeps; zero disables the sweeper.
  std::chrono::seconds interval{std::chrono::hours(6)};
  /// Objects and unfinished uploads younger than this are left alone.
  std::chrono::seconds min_age{std::chrono::hours(1)};
  /// From start() to the first sweep (let the node finish starting).
  std::chrono::milliseconds first_delay{std::chrono::seconds(30)};
  /// The store has kMediaShared: one node per interval sweeps.
  bool shared_store = false;
  /// Objects listed per page (and checked against the database at once).
  std::size_t page_size = 500;
};

/// What a stored key stands for, for the sweep.
struct OrphanCandidate {
  enum class Kind { media, thumbnail } kind = Kind::media;
  std::string media_id;
  /// Thumbnails only.
  int width = 0;
  int height = 0;
  std::string method;
};

/// Parses a store key of this server (`server_segment` is
/// server_key_segment(server_name)). Nullopt for any other key, which the
/// sweep never touches.
std::optional<OrphanCandidate> parse_store_key(std::string_view key,
                                               std::string_view server_segment);

struct OrphanSweepResult {
  bool swept = false;  ///< false: another node holds the lease, or no listing
  std::size_t abandoned_uploads = 0;
  std::size_t objects_checked = 0;
  std::size_t orphans_removed = 0;
};

class OrphanSweeper {
 public:
  /// All references must outlive the sweeper.
  OrphanSweeper(storage::Database& db, Store& store, std::string server_name,
                OrphanSweepOptions options, metrics::Registry& metrics);
  ~OrphanSweeper();
  OrphanSweeper(const OrphanSweeper&) = delete;
  OrphanSweeper& operator=(const OrphanSweeper&) = delete;
  OrphanSweeper(OrphanSweeper&&) = delete;
  OrphanSweeper& operator=(OrphanSweeper&&) = delete;

  /// Starts the background thread (nothing when the interval is zero).
  void start();
  /// Idempotent; the destructor calls it. A sweep in progress stops at its
  /// next page.
  void stop();

  /// One sweep now, if this node gets the lease (always with a per-node
  /// store). Throws on database or store errors.
  OrphanSweepResult sweep_once();

 private:
  void loop();
  bool take_lease(std::int64_t now_ms);
  [[nodiscard]] bool stopping() const;

  storage::Database& db_;
  Store& store_;
  std::string server_name_;
  std::string server_segment_;
  OrphanSweepOptions options_;
  metrics::Counter& removed_;
  metrics::Counter& abandoned_;
  metrics::Counter& failures_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool warned_no_listing_ = false;
  std::thread thread_;
};

}  // namespace eltrix::media
