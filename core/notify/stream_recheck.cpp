#include "notify/stream_recheck.h"

#include "log/log.h"

namespace eltrix::notify {

namespace {
const log::Logger& logger() {
  static const log::Logger instance("notify");
  return instance;
}
}  // namespace

StreamRecheck::StreamRecheck(Notifier& notifier, Poll poll, std::chrono::milliseconds interval,
                             metrics::Registry& metrics)
    : notifier_(notifier),
      poll_(std::move(poll)),
      interval_(interval),
      rounds_(metrics.counter("eltrix_sync_rechecks_total",
                              "Rounds of the waiting syncs' database recheck that found the "
                              "stream moved while syncs waited.")),
      woken_(metrics.counter("eltrix_sync_recheck_wakeups_total",
                             "Waiting syncs woken by the database recheck rather than a wake-up "
                             "(a lost or late cluster message).")) {}

StreamRecheck::~StreamRecheck() {
  stop();
}

void StreamRecheck::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void StreamRecheck::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StreamRecheck::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    try {
      tick();
    } catch (const std::exception& e) {
      // The database is away: nothing to recheck against; try next round.
      logger().debug("sync recheck failed", {{"error", e.what()}});
    }
    lock.lock();
  }
}

std::size_t StreamRecheck::tick() {
  // The head first, then whether anyone waits: a sync that registers after
  // this read rechecks the stream itself once registered (client/sync.cpp),
  // which covers everything up to the head read here.
  const std::int64_t head = poll_(last_.value_or(0), false).head;
  const std::size_t waiting = notifier_.waiting();
  if (!last_) {
    // First round: waiters that registered before it were built at their
    // own positions; start from the oldest so no change after it is missed.
    const auto oldest = notifier_.oldest_position();
    last_ = oldest ? std::min(*oldest, head) : head;
  }
  // Nothing new, or a lagging source went backwards: keep the baseline.
  if (head <= *last_) return 0;
  if (waiting == 0) {
    last_ = head;
    return 0;
  }
  auto seen = poll_(*last_, true);
  const std::int64_t from = *last_;
  last_ = std::max(seen.head, head);
  rounds_.inc();
  const std::size_t woken = notifier_.wake_changed(seen.changes);
  woken_.inc(static_cast<double>(woken));
  logger().debug("sync recheck", {{"from", std::to_string(from)},
                                  {"to", std::to_string(seen.head)},
                                  {"changed_keys", std::to_string(seen.changes.size())},
                                  {"woken", std::to_string(woken)}});
  return woken;
}

}  // namespace eltrix::notify
