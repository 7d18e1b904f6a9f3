// The accepting side of the mesh: listens on cluster.bind_address and
// cluster.port, runs the handshake as the acceptor on every connection, then
// reads the encrypted frames and hands each message to the mesh.
//
// Anyone who can reach the port can open connections, so nothing before
// authentication gets a thread or more than a few hundred bytes:
// - one thread accepts and drives every pending handshake with poll(2)
//   (AcceptorHandshake), each for at most handshake_timeout;
// - frames before authentication are at most kMaxHandshakeFrameBytes;
// - one source address may hold max_handshakes_per_address pending
//   handshakes (more are refused at once), and all addresses together
//   max_handshakes; when that is full, a newcomer evicts the oldest handshake
//   of the address holding the most, so a flood from a few addresses never
//   locks a real peer out (its handshake takes a round trip, not seconds).
// Only an authenticated connection gets a reader thread (a cluster has a
// handful of peers, each holding one connection here; bounded by
// max_connections); one that stays silent for idle_timeout is closed.
#pragma once

#include "cluster/acceptor_handshake.h"
#include "cluster/cluster_key.h"
#include "cluster/mesh_metrics.h"

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace eltrix::cluster {

struct ListenerOptions {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 8009;  ///< 0: any free port (tests)
  /// Authenticated connections at once.
  std::size_t max_connections = 256;
  /// Connections in their handshake at once, all addresses together.
  std::size_t max_handshakes = 256;
  /// Connections in their handshake at once from one source address.
  std::size_t max_handshakes_per_address = 8;
  std::chrono::milliseconds handshake_timeout{2000};
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
  /// A connection still in its handshake; owned by the accept thread only.
  struct Pending {
    Poco::Net::StreamSocket socket;
    std::string address;  ///< source IP: the unit of the per-address cap
    std::string remote;   ///< address:port, for the log
    std::chrono::steady_clock::time_point deadline;
    std::unique_ptr<AcceptorHandshake> handshake;
  };
  /// An authenticated connection and its reader thread.
  struct Connection {
    Poco::Net::StreamSocket socket;
    std::string remote;
    std::string peer_id;
    std::unique_ptr<ReceiveStream> stream;
    FrameReader reader;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  using PendingList = std::list<std::unique_ptr<Pending>>;

  void accept_loop();
  /// Accepts what the backlog holds, applying the caps.
  void accept_ready();
  void admit(const Poco::Net::StreamSocket& socket);
  /// Reads what `p` sent and answers; false when it is finished (closed,
  /// failed or promoted to an authenticated connection).
  bool progress(Pending& p);
  void drop(PendingList::iterator it);
  void promote(Pending& p);
  void serve(Connection& connection);
  /// Joins finished connection threads. Lock held.
  void reap_locked();
  /// Counts a refused connection; logs at most every 10 s.
  void refused(const std::string& address, std::string_view why);

  const ListenerOptions options_;
  const Key& key_;
  const std::string self_id_;
  MeshMetrics& metrics_;
  Deliver deliver_;
  Poco::Net::ServerSocket server_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};

  // Accept thread only.
  PendingList pending_;
  std::map<std::string, std::size_t, std::less<>> pending_per_address_;
  std::chrono::steady_clock::time_point last_refusal_log_{};
  std::size_t refusals_since_log_ = 0;

  std::mutex mutex_;
  std::list<std::unique_ptr<Connection>> connections_;
  std::thread accept_thread_;
};

}  // namespace eltrix::cluster
