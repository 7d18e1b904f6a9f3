// The database recheck behind every waiting sync: correctness never depends
// on wake-ups arriving (DESIGN.md §4, "Cluster messages are wake-up hints").
//
// One thread per node, not one query per waiter: every `interval` it reads
// the stream head (one query); when the head moved and someone waits, it asks which
// room:/user: keys changed since the previous head (one query,
// storage/stream_changes.h) and wakes only the waiters on those keys whose
// answer was built before the change (Notifier::wake_changed). A wake-up
// that arrived (locally or from a peer) has already moved those waiters on,
// so when the mesh works the recheck wakes nobody; when a message was lost,
// delivery is late by at most `interval`.
#pragma once

#include "metrics/registry.h"
#include "notify/notifier.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace eltrix::notify {

struct StreamObservation {
  std::int64_t head = 0;
  /// Keys changed in (last, head], when asked for.
  std::vector<std::pair<std::string, std::int64_t>> changes;
};

class StreamRecheck {
 public:
  /// Reads the head and, when `with_changes` and the head is past `last`,
  /// the changes in (last, head], in one transaction. May throw.
  using Poll = std::function<StreamObservation(std::int64_t last, bool with_changes)>;

  /// Registers eltrix_sync_rechecks_total and eltrix_sync_recheck_wakeups_total.
  StreamRecheck(Notifier& notifier, Poll poll, std::chrono::milliseconds interval,
                metrics::Registry& metrics);
  /// stop().
  ~StreamRecheck();
  StreamRecheck(const StreamRecheck&) = delete;
  StreamRecheck& operator=(const StreamRecheck&) = delete;
  StreamRecheck(StreamRecheck&&) = delete;
  StreamRecheck& operator=(StreamRecheck&&) = delete;

  void start();
  /// Idempotent.
  void stop();
  /// One round now (the thread calls it; tests too). Returns the waiters woken.
  std::size_t tick();

 private:
  void loop();

  Notifier& notifier_;
  Poll poll_;
  std::chrono::milliseconds interval_;
  metrics::Counter& rounds_;
  metrics::Counter& woken_;
  std::optional<std::int64_t> last_;  ///< only the tick()ing thread touches it

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace eltrix::notify
