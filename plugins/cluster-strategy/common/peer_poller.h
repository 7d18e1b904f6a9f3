// The polling half shared by the dynamic cluster strategies (dns, kubernetes):
// one background thread that asks the source every interval, keeps the last
// good peer set, tells a listener about changes, and turns failures into
// health and metrics.
//
// A failed poll never clears the peer set: a DNS timeout or an API-server
// restart says nothing about whether the peers are gone, and dropping them
// would cut the mesh exactly when it is most useful. Only a successful answer
// (even an empty one) replaces the set.
#pragma once

#include <eltrix/plugin/cluster_strategy.h>
#include <eltrix/plugin/host.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace eltrix::cluster_common {

/// Thrown by a fetch function when the source did not give an answer.
/// `reason` is a short fixed label for metrics ("nxdomain", "timeout",
/// "http_401", ...); what() is the sentence shown in health and logs.
class FetchFailure : public std::runtime_error {
 public:
  FetchFailure(std::string reason, const std::string& message)
      : std::runtime_error(message), reason_(std::move(reason)) {}
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

 private:
  std::string reason_;
};

/// Sorts peers (IPv4 before IPv6, numerically; then names) and drops
/// duplicates of the same address and port, keeping the first.
std::vector<plugin::Peer> normalize(std::vector<plugin::Peer> peers);

class PeerPoller {
 public:
  /// Asks the source once; returns the complete peer set or throws
  /// FetchFailure. Called from the poll thread and from discover(), possibly
  /// at the same time, so it must be safe to call concurrently.
  using Fetch = std::function<std::vector<plugin::Peer>()>;

  /// `strategy` labels metrics and log lines; `source` names what is asked
  /// ("peers.example.org", "pods app=eltrix in default") in health details.
  PeerPoller(plugin::Host& host, std::string strategy, std::string source,
             std::chrono::milliseconds interval, Fetch fetch);
  ~PeerPoller();
  PeerPoller(const PeerPoller&) = delete;
  PeerPoller& operator=(const PeerPoller&) = delete;
  PeerPoller(PeerPoller&&) = delete;
  PeerPoller& operator=(PeerPoller&&) = delete;

  /// Polls once on the calling thread (so health and the first watch
  /// delivery are known when the plugin's constructor returns), then starts
  /// the background thread.
  void start();
  /// Stops and joins the thread; a poll in progress finishes first (bounded
  /// by the fetch's own timeout). Idempotent.
  void stop();

  /// One fetch on the calling thread; FetchFailure becomes
  /// plugin::Error(transient). Does not change the polled state.
  std::vector<plugin::Peer> discover();
  [[nodiscard]] plugin::Health health() const;
  /// See ClusterStrategy::watch. A known set is delivered before watch
  /// returns; otherwise the first good answer delivers it from the thread.
  void watch(plugin::PeerListener* listener);

 private:
  void run();
  void poll();
  void deliver(const std::vector<plugin::Peer>& peers);
  void deliver_locked(const std::vector<plugin::Peer>& peers);  // listener_mutex_ held
  void lock_listener();
  void unlock_listener();

  plugin::Host& host_;
  const std::string strategy_;
  const std::string source_;
  const std::chrono::milliseconds interval_;
  const Fetch fetch_;
  plugin::Counter& polls_;
  plugin::Gauge& peer_gauge_;
  plugin::Histogram& duration_;

  // State of the last polls, guarded by mutex_; also the stop flag the
  // thread waits on.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::optional<std::vector<plugin::Peer>> peers_;  // last good answer
  std::string failure_;                             // empty after a good answer
  std::string failure_reason_;
  std::chrono::steady_clock::time_point last_success_{};

  // Serialises listener calls, so watch(nullptr) returning means no call is
  // running or will run. A listener may call watch() from inside its
  // callback: holder_ lets that call see it already holds the lock.
  std::mutex listener_mutex_;
  std::atomic<std::thread::id> holder_{};
  plugin::PeerListener* listener_ = nullptr;
  std::optional<std::vector<plugin::Peer>> delivered_;

  std::thread thread_;
};

}  // namespace eltrix::cluster_common
