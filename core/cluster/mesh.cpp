#include "cluster/mesh.h"

#include "cluster/secure_stream.h"
#include "log/log.h"

#include <fmt/format.h>

#include <vector>

namespace eltrix::cluster {

namespace {
const log::Logger& logger() {
  static const log::Logger instance("cluster");
  return instance;
}
}  // namespace

Mesh::Mesh(MeshOptions options, metrics::Registry& metrics)
    : options_(std::move(options)), metrics_(metrics) {}

Mesh::~Mesh() {
  stop();
}

void Mesh::on(MessageType type, Handler handler) {
  handlers_[static_cast<std::uint8_t>(type)] = std::move(handler);
}

void Mesh::start(const plugins::Instance<plugin::ClusterStrategy>& strategy) {
  listener_ = std::make_unique<Listener>(
      options_.listener, options_.key, options_.node_id, metrics_,
      [this](std::uint8_t type, std::string_view payload) { deliver(type, payload); });
  listener_->start();
  logger().info("cluster mesh listening", {{"address", options_.listener.bind_address},
                                           {"port", std::to_string(listener_->port())},
                                           {"node_id", options_.node_id}});
  strategy_ = &strategy;
  auto guard = strategy.serialize();
  try {
    strategy->watch(this);
  } catch (const std::exception& e) {
    // The node serves without peers (syncs still see other nodes' events
    // through the database recheck); the strategy's health says why.
    logger().error("cluster strategy failed to start watching", {{"error", e.what()}});
  } catch (...) {
    logger().error("cluster strategy failed to start watching",
                   {{"error", "non-standard exception"}});
  }
}

void Mesh::stop() {
  if (strategy_ != nullptr) {
    auto guard = strategy_->serialize();
    try {
      (*strategy_)->watch(nullptr);
    } catch (...) {
      // Stopping anyway: the links below are hung up regardless.
    }
    strategy_ = nullptr;
  }
  std::map<std::string, std::unique_ptr<PeerLink>> links;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    links.swap(links_);
  }
  links.clear();  // each PeerLink's destructor hangs up and joins
  if (listener_) listener_->stop();
  recount();
}

std::uint16_t Mesh::port() const {
  return listener_ ? listener_->port() : 0;
}

void Mesh::publish(MessageType type, std::string payload) {
  if (payload.size() > kMaxPayloadBytes) {
    // A peer would cut the connection on such a frame; the hint is lost
    // instead (the database recheck covers it).
    metrics_.dropped("too_large");
    logger().warn("cluster message too large to send; dropped",
                  {{"type", std::string(message_type_name(static_cast<std::uint8_t>(type)))},
                   {"bytes", std::to_string(payload.size())}});
    return;
  }
  auto message = std::make_shared<const OutMessage>(
      OutMessage{static_cast<std::uint8_t>(type), std::move(payload)});
  std::lock_guard lock(mutex_);
  for (auto& [key, link] : links_) {
    if (!link->is_self()) link->enqueue(message);
  }
}

void Mesh::peers_changed(const std::vector<plugin::Peer>& peers) {
  const auto wanted = normalise_peers(peers, options_.default_peer_port);
  std::vector<std::unique_ptr<PeerLink>> gone;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    const PeerDiff diff = diff_peers(links_, wanted);
    for (const auto& key : diff.removed) {
      auto it = links_.find(key);
      logger().info("cluster peer removed", {{"peer", key}});
      gone.push_back(std::move(it->second));
      links_.erase(it);
    }
    for (const auto& endpoint : diff.added) {
      const std::string key = endpoint_key(endpoint);
      logger().info("cluster peer added", {{"peer", key}});
      auto link = std::make_unique<PeerLink>(endpoint, options_.key, options_.node_id,
                                             options_.link, metrics_, [this] { recount(); });
      link->start();
      links_.emplace(key, std::move(link));
    }
  }
  gone.clear();  // hung up and joined outside the lock: publish() never waits on it
  recount();
}

void Mesh::deliver(std::uint8_t type, std::string_view payload) {
  const auto& handler = handlers_[type];
  // Unknown types (a newer peer) are counted as received and ignored.
  if (handler) handler(payload);
}

Mesh::Counts Mesh::counts() const {
  Counts counts;
  std::lock_guard lock(mutex_);
  for (const auto& [key, link] : links_) {
    if (link->is_self()) continue;
    ++counts.seen;
    if (link->connected()) ++counts.connected;
  }
  return counts;
}

void Mesh::recount() {
  const Counts c = counts();
  metrics_.peers.set(static_cast<double>(c.seen));
  metrics_.connected.set(static_cast<double>(c.connected));
}

plugin::Health Mesh::health() const {
  const Counts c = counts();
  // Peers listed but not connected are normal while nodes start, restart or
  // roll out, and this node serves fully meanwhile (the recheck covers the
  // wake-ups): the counts are reported, the status stays the strategy's.
  // Alert on eltrix_cluster_peers_connected < eltrix_cluster_peers instead.
  return {plugin::HealthStatus::ok,
          fmt::format("{} peers seen, {} connected", c.seen, c.connected)};
}

}  // namespace eltrix::cluster
