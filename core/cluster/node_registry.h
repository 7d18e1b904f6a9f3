// This node's entry in the cluster_nodes table, and what the others' entries
// say: which nodes are alive. It is how presence survives a node's death
// without any message from it (DESIGN.md §4: the mesh is only a hint).
//
// Every `heartbeat_interval` one thread: refreshes this node's row, reads the
// ids of nodes heard from within `node_timeout`, and marks offline the users
// whose presence is tied to a node silent for 2 x `node_timeout`
// (storage/cluster_nodes.h). A user's presence row is tied to the node that
// last refreshed it from a sync or PUT /presence; a live user whose node died
// is taken over by the next node their client syncs through, which happens
// within a long-poll once the node counts as dead, hence the second
// `node_timeout` of grace. So a dead node's remaining users are offline
// within 2 x node_timeout + heartbeat_interval (35 s by default).
#pragma once

#include "metrics/registry.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace eltrix::storage {
class Database;
}

namespace eltrix::cluster {

struct NodeRegistryOptions {
  std::string node_id;
  std::string address;  ///< for operators reading cluster_nodes
  std::chrono::milliseconds heartbeat_interval{5000};
  std::chrono::milliseconds node_timeout{15000};
  std::size_t batch = 500;  ///< users marked offline per transaction
};

class NodeRegistry {
 public:
  using Offline = std::function<void(const std::vector<std::string>& users)>;

  NodeRegistry(storage::Database& db, NodeRegistryOptions options, metrics::Registry& metrics);
  /// stop().
  ~NodeRegistry();
  NodeRegistry(const NodeRegistry&) = delete;
  NodeRegistry& operator=(const NodeRegistry&) = delete;
  NodeRegistry(NodeRegistry&&) = delete;
  NodeRegistry& operator=(NodeRegistry&&) = delete;

  /// Called with the users a round marked offline (to wake syncs). Set
  /// before start().
  void on_offline(Offline offline);
  void start();
  /// Idempotent.
  void stop();
  /// One round now (the thread calls it; tests too). Throws on database errors.
  void beat();

  [[nodiscard]] const std::string& node_id() const { return options_.node_id; }
  /// This node, or a node heard from within node_timeout. True for every id
  /// until the first round has read the table (nothing is taken over blind).
  [[nodiscard]] bool alive(const std::string& node_id) const;

 private:
  void loop();

  storage::Database& db_;
  const NodeRegistryOptions options_;
  const std::int64_t started_ts_;
  Offline offline_;
  metrics::Gauge& alive_gauge_;
  metrics::Counter& offline_counter_;

  mutable std::mutex mutex_;
  std::set<std::string, std::less<>> alive_;
  bool known_ = false;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace eltrix::cluster
