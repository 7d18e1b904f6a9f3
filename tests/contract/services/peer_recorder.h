// A PeerListener that records every delivery, with waits for the tests of
// the dynamic cluster strategies (their deliveries come from a poll thread).
#pragma once

#include <eltrix/plugin/cluster_strategy.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace eltrix::contract {

class PeerRecorder final : public plugin::PeerListener {
 public:
  void peers_changed(const std::vector<plugin::Peer>& peers) override {
    {
      std::lock_guard lock(mutex_);
      calls_.push_back(peers);
    }
    changed_.notify_all();
  }

  [[nodiscard]] std::vector<std::vector<plugin::Peer>> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

  /// Waits until some delivery's addresses equal `addresses` (in order);
  /// returns whether one did within `timeout`.
  bool wait_for(const std::vector<std::string>& addresses,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      for (const auto& call : calls_) {
        if (addresses_of(call) == addresses) return true;
      }
      return false;
    });
  }

  static std::vector<std::string> addresses_of(const std::vector<plugin::Peer>& peers) {
    std::vector<std::string> out;
    out.reserve(peers.size());
    for (const auto& peer : peers) out.push_back(peer.address);
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::vector<plugin::Peer>> calls_;
};

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace eltrix::contract
