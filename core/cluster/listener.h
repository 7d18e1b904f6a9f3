// The accepting side of the mesh: listens on cluster.bind_address and
// cluster.port, runs the handshake as the acceptor on every connection, then
// reads authenticated frames and hands each message to the mesh.
//
// One thread accepts; each connection gets a reader thread (a cluster has a
// handful of peers, each holding one connection here). Connections are
// bounded (max_connections); a connection that does not finish its handshake
// in time, or stays silent for three ping intervals, is closed.
#pragma once

#include "cluster/cluster_key.h"
#include "cluster/mesh_metrics.h"

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace eltrix::cluster {

struct ListenerOptions {
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 8009;  ///< 0: any free port (tests)
  std::size_t max_connections = 256;
  std::chrono::milliseconds handshake_timeout{5000};
  /// A connection with no frame for this long is closed.
  std::chrono::milliseconds idle_timeout{15000};
};

class Listener {
 public:
  /// `deliver(type, payload)` runs on a reader thread for every authenticated
  /// message (pings excluded); it must not block for long.
  using Deliver = std::function<void(std::uint8_t type, std::string_view payload)>;

  Listener(ListenerOptions options, const Key& key, std::string self_id, MeshMetrics& metrics,
           Deliver deliver);
  /// stop().
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  Listener(Listener&&) = delete;
  Listener& operator=(Listener&&) = delete;

  /// Binds (throws Poco::Exception when the address is taken) and starts accepting.
  void start();
  /// Closes the listening socket and every connection; joins the threads.
  void stop();
  /// The bound port (useful when options.port is 0).
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  struct Connection {
    Poco::Net::StreamSocket socket;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  void accept_loop();
  void serve(Connection& connection);
  /// Joins finished connection threads. Lock held.
  void reap_locked();

  const ListenerOptions options_;
  const Key& key_;
  const std::string self_id_;
  MeshMetrics& metrics_;
  Deliver deliver_;
  Poco::Net::ServerSocket server_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::list<std::unique_ptr<Connection>> connections_;
  std::thread accept_thread_;
};

}  // namespace eltrix::cluster
