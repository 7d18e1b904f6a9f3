#include "notify/notifier.h"

#include "log/log.h"

#include <algorithm>
#include <exception>

namespace eltrix::notify {
namespace {

constexpr std::string_view kWaitingHelp = "Sync requests currently waiting for events.";
constexpr std::string_view kLimitHelp =
    "Maximum number of sync requests waiting at once on this node (further ones answer at once).";
constexpr std::string_view kEvictedHelp =
    "Waiting syncs answered early because their user had sync.max_waiting_per_user waiting.";
constexpr std::string_view kRefusedHelp =
    "Sync waits refused because the limit of waiting syncs was reached.";

const log::Logger& logger() {
  static const log::Logger instance("notify");
  return instance;
}

}  // namespace

std::string room_key(std::string_view room_id) {
  std::string key = "room:";
  key.append(room_id);
  return key;
}

std::string user_key(std::string_view user_id) {
  std::string key = "user:";
  key.append(user_id);
  return key;
}

Notifier::Notifier(metrics::Registry& metrics, std::size_t max_waiting, std::size_t threads,
                   std::size_t max_per_owner)
    : max_waiting_(max_waiting),
      max_per_owner_(max_per_owner),
      waiting_gauge_(metrics.gauge("eltrix_sync_connections", kWaitingHelp)),
      evicted_(metrics.counter("eltrix_sync_waits_evicted_total", kEvictedHelp)),
      refused_(metrics.counter("eltrix_sync_waits_refused_total", kRefusedHelp)) {
  metrics.gauge("eltrix_sync_connections_limit", kLimitHelp).set(static_cast<double>(max_waiting));
  waiting_gauge_.set(0);
  timer_ = std::thread([this] { run_timer(); });
  workers_.reserve(std::max<std::size_t>(threads, 1));
  for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i) {
    workers_.emplace_back([this] { run_worker(); });
  }
}

Notifier::~Notifier() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    while (!waiters_.empty()) wake_locked(waiters_.begin(), true);
    waiting_gauge_.set(0);
  }
  timer_cv_.notify_all();
  work_cv_.notify_all();
  timer_.join();
  // Workers run every queued callback before they exit, so each waiter hears
  // back exactly once even when the notifier goes away first.
  for (auto& t : workers_) t.join();
}

std::uint64_t Notifier::wait(std::vector<std::string> keys, Clock::time_point deadline,
                             Callback callback, std::int64_t position, std::string owner) {
  std::unique_lock lock(mutex_);
  if (stopping_) {
    lock.unlock();
    refused_.inc();
    return 0;
  }
  bool evicted = false;
  if (max_per_owner_ != 0 && !owner.empty()) {
    // The owner's oldest waiter answers now (with what it has), so the new
    // one, which is the one the client is waiting on, can wait.
    auto o = by_owner_.find(owner);
    if (o != by_owner_.end() && o->second.size() >= max_per_owner_) {
      auto oldest = waiters_.find(*o->second.begin());
      if (oldest != waiters_.end()) {
        wake_locked(oldest, true);
        evicted = true;
      }
    }
  }
  if (waiters_.size() >= max_waiting_) {
    waiting_gauge_.set(static_cast<double>(waiters_.size()));
    lock.unlock();
    if (evicted) work_cv_.notify_one();
    refused_.inc();
    return 0;
  }
  const std::uint64_t id = ++next_id_;
  // Duplicate keys would index the waiter twice under one key, which is
  // harmless, but sorting keeps unindexing simple and cheap.
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  for (const auto& key : keys) by_key_[key].insert(id);
  const bool earliest = deadlines_.empty() || deadline < deadlines_.begin()->first;
  deadlines_.emplace(deadline, id);
  if (max_per_owner_ != 0 && !owner.empty()) by_owner_[owner].insert(id);
  waiters_.emplace(
      id, Waiter{std::move(keys), deadline, std::move(callback), position, std::move(owner)});
  waiting_gauge_.set(static_cast<double>(waiters_.size()));
  lock.unlock();
  if (evicted) {
    evicted_.inc();
    work_cv_.notify_one();
  }
  if (earliest) timer_cv_.notify_one();
  return id;
}

bool Notifier::cancel(std::uint64_t id) {
  Callback dropped;  // destroyed outside the lock: it may own a Deferred
  {
    std::lock_guard lock(mutex_);
    auto it = waiters_.find(id);
    if (it == waiters_.end()) return false;
    unindex_locked(id, it->second);
    dropped = std::move(it->second.callback);
    waiters_.erase(it);
    waiting_gauge_.set(static_cast<double>(waiters_.size()));
  }
  return true;
}

void Notifier::notify(const std::vector<std::string>& keys) {
  wake_local(keys);
  if (publisher_) publisher_(keys);
}

void Notifier::set_publisher(std::function<void(const std::vector<std::string>&)> publisher) {
  publisher_ = std::move(publisher);
}

std::size_t Notifier::wake_changed(
    const std::vector<std::pair<std::string, std::int64_t>>& changes) {
  std::size_t woken = 0;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, position] : changes) {
      auto k = by_key_.find(key);
      if (k == by_key_.end()) continue;
      const std::vector<std::uint64_t> ids(k->second.begin(), k->second.end());
      for (const auto id : ids) {
        auto it = waiters_.find(id);
        if (it == waiters_.end() || it->second.position >= position) continue;
        wake_locked(it, false);
        ++woken;
      }
    }
    if (woken != 0) waiting_gauge_.set(static_cast<double>(waiters_.size()));
  }
  if (woken == 1) {
    work_cv_.notify_one();
  } else if (woken > 1) {
    work_cv_.notify_all();
  }
  return woken;
}

void Notifier::wake_local(const std::vector<std::string>& keys) {
  std::size_t woken = 0;
  {
    std::lock_guard lock(mutex_);
    for (const auto& key : keys) {
      auto k = by_key_.find(key);
      if (k == by_key_.end()) continue;
      // wake_locked() edits this set (and may erase it), so take the ids first.
      const std::vector<std::uint64_t> ids(k->second.begin(), k->second.end());
      for (const auto id : ids) {
        auto it = waiters_.find(id);
        if (it == waiters_.end()) continue;
        wake_locked(it, false);
        ++woken;
      }
    }
    if (woken != 0) waiting_gauge_.set(static_cast<double>(waiters_.size()));
  }
  if (woken == 1) {
    work_cv_.notify_one();
  } else if (woken > 1) {
    work_cv_.notify_all();
  }
}

void Notifier::wake_all() {
  bool any = false;
  {
    std::lock_guard lock(mutex_);
    any = !waiters_.empty();
    while (!waiters_.empty()) wake_locked(waiters_.begin(), true);
    waiting_gauge_.set(0);
  }
  if (any) work_cv_.notify_all();
}

std::size_t Notifier::waiting() const {
  std::lock_guard lock(mutex_);
  return waiters_.size();
}

std::optional<std::int64_t> Notifier::oldest_position() const {
  std::lock_guard lock(mutex_);
  std::optional<std::int64_t> oldest;
  for (const auto& [id, waiter] : waiters_) {
    if (waiter.position == std::numeric_limits<std::int64_t>::min()) continue;
    if (!oldest || waiter.position < *oldest) oldest = waiter.position;
  }
  return oldest;
}

void Notifier::unindex_locked(std::uint64_t id, const Waiter& waiter) {
  for (const auto& key : waiter.keys) {
    auto k = by_key_.find(key);
    if (k == by_key_.end()) continue;
    k->second.erase(id);
    // Empty sets are dropped so that by_key_ only holds keys someone waits on
    // (room and user ids come and go; the map must not grow with history).
    if (k->second.empty()) by_key_.erase(k);
  }
  deadlines_.erase({waiter.deadline, id});
  if (!waiter.owner.empty()) {
    auto o = by_owner_.find(waiter.owner);
    if (o != by_owner_.end()) {
      o->second.erase(id);
      if (o->second.empty()) by_owner_.erase(o);
    }
  }
}

void Notifier::wake_locked(std::unordered_map<std::uint64_t, Waiter>::iterator it, bool timed_out) {
  unindex_locked(it->first, it->second);
  ready_.emplace_back(std::move(it->second.callback), timed_out);
  waiters_.erase(it);
}

void Notifier::run_timer() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (deadlines_.empty()) {
      timer_cv_.wait(lock);
      continue;
    }
    const auto next = deadlines_.begin()->first;
    if (Clock::now() < next) {
      timer_cv_.wait_until(lock, next);
      continue;  // re-read: an earlier deadline may have arrived meanwhile
    }
    std::size_t woken = 0;
    const auto now = Clock::now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      auto it = waiters_.find(deadlines_.begin()->second);
      if (it == waiters_.end()) {
        deadlines_.erase(deadlines_.begin());  // cannot happen; never spin on it
        continue;
      }
      wake_locked(it, true);
      ++woken;
    }
    waiting_gauge_.set(static_cast<double>(waiters_.size()));
    if (woken == 1) {
      work_cv_.notify_one();
    } else if (woken > 1) {
      work_cv_.notify_all();
    }
  }
}

void Notifier::run_worker() {
  std::unique_lock lock(mutex_);
  while (true) {
    work_cv_.wait(lock, [this] { return !ready_.empty() || stopping_; });
    if (ready_.empty()) return;  // stopping, and nothing left to run
    auto [callback, timed_out] = std::move(ready_.front());
    ready_.pop_front();
    lock.unlock();
    try {
      if (callback) callback(timed_out);
    } catch (const std::exception& e) {
      logger().error("waiter callback failed", {{"error", e.what()}});
    } catch (...) {
      logger().error("waiter callback failed", {{"error", "unknown exception"}});
    }
    callback = nullptr;  // release what it owns before taking the lock again
    lock.lock();
  }
}

}  // namespace eltrix::notify
