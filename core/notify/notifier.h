// Waiters for long-poll sync: a request that found nothing new registers on
// the keys it cares about (its rooms, its user) and is woken when a writer
// notifies one of them, or at its deadline.
//
// The notifier only says "look again": it carries no data, so a missed or
// spurious wake-up costs a database read, never an event (DESIGN.md §4).
//
// Usage with http::Deferred, in a /sync handler (the lead wires the real one):
//
//   class SyncWait final : public http::Deferred,
//                          public std::enable_shared_from_this<SyncWait> {
//    public:
//     SyncWait(notify::Notifier& n, std::vector<std::string> keys,
//              std::chrono::steady_clock::time_point deadline, std::function<Result()> compute)
//         : notifier_(n), keys_(std::move(keys)), deadline_(deadline),
//           compute_(std::move(compute)) {}
//
//     void start(std::function<void(http::Response)> complete) override {
//       complete_ = std::move(complete);
//       arm();
//     }
//     void cancel() override {
//       std::uint64_t id = 0;
//       {
//         std::lock_guard lock(mutex_);
//         cancelled_ = true;
//         id = std::exchange(id_, 0);
//       }
//       // False: the callback is already on its way and finishes the request.
//       if (id != 0 && notifier_.cancel(id)) complete_(to_response(Result{}));
//     }
//
//    private:
//     void arm() {
//       std::unique_lock lock(mutex_);
//       if (!cancelled_) {
//         // The callback may run before wait() returns; it takes mutex_ first.
//         id_ = notifier_.wait(keys_, deadline_,
//                              [self = shared_from_this()](bool t) { self->woken(t); });
//         if (id_ != 0) return;
//       }
//       lock.unlock();
//       complete_(to_response(compute_()));  // cancelled, or the notifier is full
//     }
//     void woken(bool timed_out) {
//       {
//         std::lock_guard lock(mutex_);
//         id_ = 0;
//       }
//       Result r = compute_();  // a notifier thread: database work is fine here
//       if (r.empty() && !timed_out && std::chrono::steady_clock::now() < deadline_) {
//         arm();  // woken for something this request does not show: wait again
//       } else {
//         complete_(to_response(r));
//       }
//     }
//     ...members: notifier_, keys_, deadline_, compute_, complete_, mutex_,
//        id_ = 0, cancelled_ = false
//   };
//
//   // In the handler:
//   Result r = compute();
//   if (!r.empty() || timeout == 0) return to_response(r);
//   return http::Response::deferred(std::make_shared<SyncWait>(notifier,
//       {notify::user_key(user), notify::room_key(room)...}, now + timeout, compute));
//
// The same class is exercised in tests/unit/notify/notifier_test.cpp.
//
// Capacity: max_waiting is the node's limit on waiting syncs. wait() returns 0
// beyond it and the handler answers at once, so keep max_waiting at or below
// the HTTP server's max_parked (which would otherwise answer 503; the
// configuration refuses sync.max_waiting > http.max_parked).
// max_per_owner caps one owner's (user's) waiters: a new one beyond it wakes
// that owner's oldest waiter at once (timed_out = true), so one account cannot
// take the node's capacity, and a client that reconnected does not leave its
// abandoned request holding a place.
#pragma once

#include "metrics/registry.h"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace eltrix::notify {

/// "room:" + id: notified when anything in the room changes.
std::string room_key(std::string_view room_id);
/// "user:" + id: notified for changes only that user sees (account data,
/// to-device messages, invites, ...).
std::string user_key(std::string_view user_id);

class Notifier {
 public:
  /// Registers eltrix_sync_connections (waiting now), eltrix_sync_connections_limit
  /// and eltrix_sync_waits_refused_total in `metrics`, which must outlive it.
  /// `threads` (at least 1) run the callbacks; one more thread keeps the deadlines.
  /// `max_per_owner` 0: no per-owner limit.
  explicit Notifier(metrics::Registry& metrics, std::size_t max_waiting, std::size_t threads = 2,
                    std::size_t max_per_owner = 0);
  /// Stops threads; outstanding waiters get their callback with timed_out = true
  /// (wait() returns 0 from then on, so a callback cannot re-register).
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  using Callback = std::function<void(bool timed_out)>;

  /// Registers a waiter on `keys`. `callback` runs exactly once on a notifier
  /// thread (never while holding the notifier's lock): when any key is notified
  /// (false) or at `deadline` (true), unless cancel() removed it first. Returns 0
  /// when max_waiting waiters already wait (the caller should answer at once).
  /// A deadline already past fires at once. Ids are never reused.
  /// `position`: the stream position the waiter's answer was built at; only
  /// wake_changed() reads it (the default is older than every change).
  /// `owner` (a user ID; empty: none) is what max_per_owner counts: at the
  /// limit, the owner's oldest waiter is woken (timed_out = true) first.
  std::uint64_t wait(std::vector<std::string> keys, std::chrono::steady_clock::time_point deadline,
                     Callback callback,
                     std::int64_t position = std::numeric_limits<std::int64_t>::min(),
                     std::string owner = {});
  /// True if the waiter was still registered (its callback will not run).
  /// False if it was already woken (its callback runs or has run) or unknown.
  bool cancel(std::uint64_t id);
  /// Wakes every waiter on any of `keys` (timed_out = false). One hash lookup
  /// per key when nobody waits on it. Then hands the keys to the publisher,
  /// if one is set, so that peers wake theirs too.
  void notify(const std::vector<std::string>& keys);
  /// Wakes local waiters only: for wake-ups that came from a peer.
  void wake_local(const std::vector<std::string>& keys);
  /// Wakes the waiters on each key whose position is older than the key's
  /// change: the database recheck (stream_recheck.h), which must not wake
  /// waiters that already saw the change through a wake-up.
  /// Returns how many waiters it woke.
  std::size_t wake_changed(const std::vector<std::pair<std::string, std::int64_t>>& changes);
  /// Called with the keys of every notify() (after the local wake-up), on the
  /// notifying thread; it must not block (the cluster mesh only enqueues).
  /// Set once, before serving.
  void set_publisher(std::function<void(const std::vector<std::string>&)> publisher);
  /// Wakes every waiter now (timed_out = true): used when draining.
  void wake_all();
  [[nodiscard]] std::size_t waiting() const;
  /// The oldest position a current waiter declared (nullopt: none did).
  /// Linear in the waiters; for the recheck's first round only.
  [[nodiscard]] std::optional<std::int64_t> oldest_position() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Waiter {
    std::vector<std::string> keys;
    Clock::time_point deadline;
    Callback callback;
    std::int64_t position;
    std::string owner;
  };

  /// Removes `it` from every index and queues its callback. Lock held.
  void wake_locked(std::unordered_map<std::uint64_t, Waiter>::iterator it, bool timed_out);
  /// Removes `it` from the key and deadline indexes. Lock held.
  void unindex_locked(std::uint64_t id, const Waiter& waiter);
  void run_timer();
  void run_worker();

  const std::size_t max_waiting_;
  const std::size_t max_per_owner_;
  metrics::Gauge& waiting_gauge_;
  metrics::Counter& evicted_;
  metrics::Counter& refused_;

  mutable std::mutex mutex_;
  std::condition_variable timer_cv_;
  std::condition_variable work_cv_;
  std::unordered_map<std::uint64_t, Waiter> waiters_;
  std::unordered_map<std::string, std::unordered_set<std::uint64_t>> by_key_;
  std::set<std::pair<Clock::time_point, std::uint64_t>> deadlines_;
  /// Waiter ids by owner, oldest (smallest) first; only with max_per_owner.
  std::unordered_map<std::string, std::set<std::uint64_t>> by_owner_;
  std::deque<std::pair<Callback, bool>> ready_;  // callbacks to run, in wake order
  std::uint64_t next_id_ = 0;
  bool stopping_ = false;
  std::function<void(const std::vector<std::string>&)> publisher_;

  std::thread timer_;
  std::vector<std::thread> workers_;
};

}  // namespace eltrix::notify
