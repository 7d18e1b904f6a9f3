#include "peer_poller.h"

#include <eltrix/plugin/error.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <tuple>

namespace eltrix::cluster_common {
namespace {

// Orders addresses as numbers (127.0.0.2 before 127.0.0.10), IPv4 before
// IPv6, anything unparsable (a host name) last and as text.
struct AddressKey {
  int family = 2;
  std::array<unsigned char, 16> bytes{};
  std::string text;

  explicit AddressKey(const std::string& address) : text(address) {
    in_addr v4{};
    in6_addr v6{};
    if (::inet_pton(AF_INET, address.c_str(), &v4) == 1) {
      family = 0;
      std::memcpy(bytes.data(), &v4, sizeof v4);
    } else if (::inet_pton(AF_INET6, address.c_str(), &v6) == 1) {
      family = 1;
      std::memcpy(bytes.data(), &v6, sizeof v6);
    }
  }
  friend bool operator<(const AddressKey& a, const AddressKey& b) {
    return std::tie(a.family, a.bytes, a.text) < std::tie(b.family, b.bytes, b.text);
  }
};

std::string seconds_ago(std::chrono::steady_clock::duration elapsed) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count()) +
         "s ago";
}

}  // namespace

std::vector<plugin::Peer> normalize(std::vector<plugin::Peer> peers) {
  std::vector<std::pair<AddressKey, plugin::Peer>> keyed;
  keyed.reserve(peers.size());
  for (auto& peer : peers) {
    AddressKey key(peer.address);
    keyed.emplace_back(std::move(key), std::move(peer));
  }
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    if (a.first < b.first) return true;
    if (b.first < a.first) return false;
    return std::tie(a.second.port, a.second.name) < std::tie(b.second.port, b.second.name);
  });
  std::vector<plugin::Peer> out;
  out.reserve(keyed.size());
  for (auto& [key, peer] : keyed) {
    if (!out.empty() && out.back().address == peer.address && out.back().port == peer.port) {
      continue;
    }
    out.push_back(std::move(peer));
  }
  return out;
}

PeerPoller::PeerPoller(plugin::Host& host, std::string strategy, std::string source,
                       std::chrono::milliseconds interval, Fetch fetch)
    : host_(host),
      strategy_(std::move(strategy)),
      source_(std::move(source)),
      interval_(interval),
      fetch_(std::move(fetch)),
      polls_(host.counter("eltrix_cluster_discovery_polls_total",
                          "Peer discovery polls by cluster strategy (successful or not).",
                          {{"strategy", strategy_}})),
      peer_gauge_(host.gauge("eltrix_cluster_discovery_peers",
                             "Peers in the cluster strategy's last good answer.",
                             {{"strategy", strategy_}})),
      duration_(host.histogram("eltrix_cluster_discovery_duration_seconds",
                               "Time one peer discovery poll took.", {{"strategy", strategy_}})) {}

PeerPoller::~PeerPoller() {
  stop();
}

void PeerPoller::start() {
  poll();
  thread_ = std::thread([this] { run(); });
}

void PeerPoller::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeerPoller::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    // Relative to the steady clock of the process, not host_.steady_now():
    // a test's manual clock must not stop the thread from polling.
    if (wake_.wait_for(lock, interval_, [this] { return stopping_; })) break;
    lock.unlock();
    poll();
    lock.lock();
  }
}

void PeerPoller::poll() {
  const auto started = std::chrono::steady_clock::now();
  polls_.inc();
  std::vector<plugin::Peer> peers;
  try {
    peers = normalize(fetch_());
  } catch (const FetchFailure& failure) {
    duration_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    host_
        .counter("eltrix_cluster_discovery_failures_total",
                 "Peer discovery polls that got no usable answer, by reason. The last good "
                 "peer set is kept meanwhile.",
                 {{"strategy", strategy_}, {"reason", failure.reason()}})
        .inc();
    std::string kept;
    {
      std::lock_guard lock(mutex_);
      const bool repeated = failure_ == failure.what();
      failure_ = failure.what();
      failure_reason_ = failure.reason();
      kept = peers_ ? std::to_string(peers_->size()) : std::string("none");
      // Log a failure when it starts or changes, not on every poll.
      if (repeated) return;
    }
    host_.warn("peer discovery failed; keeping the last known peers", {{"strategy", strategy_},
                                                                       {"source", source_},
                                                                       {"reason", failure.reason()},
                                                                       {"error", failure.what()},
                                                                       {"kept_peers", kept}});
    return;
  }
  duration_.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

  bool recovered = false;
  bool changed = false;
  {
    std::lock_guard lock(mutex_);
    recovered = !failure_.empty();
    changed = !peers_ || *peers_ != peers;
    failure_.clear();
    failure_reason_.clear();
    peers_ = peers;
    last_success_ = host_.steady_now();
  }
  peer_gauge_.set(static_cast<double>(peers.size()));
  if (recovered) {
    host_.info("peer discovery recovered", {{"strategy", strategy_}, {"source", source_}});
  }
  if (changed) {
    std::string listing;
    for (const auto& peer : peers) listing += (listing.empty() ? "" : ",") + peer.address;
    host_.info(
        "cluster peers changed",
        {{"strategy", strategy_}, {"count", std::to_string(peers.size())}, {"peers", listing}});
  }
  deliver(peers);
}

void PeerPoller::lock_listener() {
  listener_mutex_.lock();
  holder_.store(std::this_thread::get_id());
}

void PeerPoller::unlock_listener() {
  holder_.store(std::thread::id{});
  listener_mutex_.unlock();
}

void PeerPoller::deliver(const std::vector<plugin::Peer>& peers) {
  lock_listener();
  deliver_locked(peers);
  unlock_listener();
}

void PeerPoller::deliver_locked(const std::vector<plugin::Peer>& peers) {
  if (listener_ == nullptr || (delivered_ && *delivered_ == peers)) return;
  delivered_ = peers;
  try {
    listener_->peers_changed(peers);
  } catch (const std::exception& e) {
    host_.error("peer listener threw", {{"strategy", strategy_}, {"error", e.what()}});
  } catch (...) {
    host_.error("peer listener threw", {{"strategy", strategy_}});
  }
}

void PeerPoller::watch(plugin::PeerListener* listener) {
  // Called from inside a peers_changed callback: the lock is ours already.
  const bool nested = holder_.load() == std::this_thread::get_id();
  if (!nested) lock_listener();
  listener_ = listener;
  delivered_.reset();
  // Read the set under the listener lock, so a newer answer delivered by
  // the thread cannot be followed by this older one.
  std::optional<std::vector<plugin::Peer>> current;
  {
    std::lock_guard lock(mutex_);
    current = peers_;
  }
  if (current) deliver_locked(*current);
  if (!nested) unlock_listener();
}

std::vector<plugin::Peer> PeerPoller::discover() {
  try {
    return normalize(fetch_());
  } catch (const FetchFailure& failure) {
    throw plugin::Error(plugin::ErrorKind::transient, failure.what());
  }
}

plugin::Health PeerPoller::health() const {
  std::lock_guard lock(mutex_);
  if (failure_.empty()) {
    if (!peers_) return {plugin::HealthStatus::ok, "no answer yet from " + source_};
    return {plugin::HealthStatus::ok, std::to_string(peers_->size()) + " peers from " + source_};
  }
  std::string detail = failure_ + "; ";
  if (peers_) {
    detail += "keeping the " + std::to_string(peers_->size()) + " peers of the last answer (" +
              seconds_ago(host_.steady_now() - last_success_) + ")";
  } else {
    detail += "no peers known yet";
  }
  return {plugin::HealthStatus::degraded, detail};
}

}  // namespace eltrix::cluster_common
