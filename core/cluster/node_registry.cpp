#include "cluster/node_registry.h"

#include "log/log.h"
#include "storage/cluster_nodes.h"
#include "storage/database.h"

namespace eltrix::cluster {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("cluster");
  return instance;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

NodeRegistry::NodeRegistry(storage::Database& db, NodeRegistryOptions options,
                           metrics::Registry& metrics)
    : db_(db),
      options_(std::move(options)),
      started_ts_(now_ms()),
      alive_gauge_(metrics.gauge("eltrix_cluster_nodes_alive",
                                 "Nodes (this one included) whose database heartbeat is recent.")),
      offline_counter_(
          metrics.counter("eltrix_cluster_dead_node_users_offline_total",
                          "Users marked offline because the node they were online through stopped "
                          "heartbeating.")) {}

NodeRegistry::~NodeRegistry() {
  stop();
}

void NodeRegistry::on_offline(Offline offline) {
  offline_ = std::move(offline);
}

void NodeRegistry::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void NodeRegistry::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool NodeRegistry::alive(const std::string& node_id) const {
  if (node_id == options_.node_id) return true;
  std::lock_guard lock(mutex_);
  return !known_ || alive_.count(node_id) != 0;
}

void NodeRegistry::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    try {
      beat();
    } catch (const std::exception& e) {
      // The database is away: nobody's heartbeat moves, so nobody is
      // declared dead by us meanwhile; try again next round.
      logger().debug("cluster heartbeat failed", {{"error", e.what()}});
    }
    lock.lock();
    wake_.wait_for(lock, options_.heartbeat_interval, [this] { return stopping_; });
  }
}

void NodeRegistry::beat() {
  const std::int64_t now = now_ms();
  const auto timeout = options_.node_timeout.count();
  auto ids = db_.write([&](storage::Transaction& tx) {
    storage::heartbeat_node(tx, options_.node_id, options_.address, started_ts_, now);
    // Rows of nodes gone for a day, with nobody online through them.
    storage::prune_nodes(tx, now - 86400000);
    return storage::live_nodes(tx, now - timeout);
  });
  {
    std::lock_guard lock(mutex_);
    alive_ = std::set<std::string, std::less<>>(ids.begin(), ids.end());
    alive_.insert(options_.node_id);
    known_ = true;
    alive_gauge_.set(static_cast<double>(alive_.size()));
  }
  // A few batches per round at most; the rest waits for the next round.
  for (int round = 0; round < 10; ++round) {
    auto users = db_.write([&](storage::Transaction& tx) {
      return storage::expire_presence_of_dead_nodes(tx, now - 2 * timeout, options_.batch);
    });
    if (users.empty()) break;
    offline_counter_.inc(static_cast<double>(users.size()));
    logger().info("users of a dead node marked offline", {{"count", std::to_string(users.size())}});
    if (offline_) offline_(users);
    if (users.size() < options_.batch) break;
  }
}

}  // namespace eltrix::cluster
