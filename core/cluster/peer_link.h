// The connection this node keeps to one peer, for sending: a thread that
// dials (with backoff), runs the handshake as the dialer, then writes the
// queued messages (pinging when idle). Publishing only enqueues: request
// threads never wait on the network. The queue is bounded; when it is full,
// or the peer is not connected, the message is dropped and counted (messages
// are hints, see messages.h).
//
// Each node dials every peer and accepts from every peer, so between two
// nodes there are two connections, one per direction of traffic. That keeps
// both sides simple: no tie-breaking between simultaneous dials.
#pragma once

#include "cluster/cluster_key.h"
#include "cluster/mesh_metrics.h"
#include "cluster/peer_set.h"
#include "cluster/secure_stream.h"

#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace eltrix::cluster {

struct LinkOptions {
  std::size_t queue_limit = 10000;
  std::chrono::milliseconds connect_timeout{2000};
  /// Longer than the acceptor's (2 s): the acceptor's deadline decides.
  std::chrono::milliseconds handshake_timeout{5000};
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  /// An idle connection sends a ping this often (the acceptor drops
  /// connections silent for three intervals).
  std::chrono::milliseconds ping_interval{5000};
  std::chrono::milliseconds send_timeout{5000};
};

/// An encoded message, shared by every link it is queued on.
struct OutMessage {
  std::uint8_t type = 0;
  std::string payload;
};

class PeerLink {
 public:
  /// `on_state` runs on the link's thread whenever connected() or is_self()
  /// changes (the mesh recounts its gauges).
  PeerLink(Endpoint endpoint, const Key& key, std::string self_id, LinkOptions options,
           MeshMetrics& metrics, std::function<void()> on_state);
  /// stop().
  ~PeerLink();
  PeerLink(const PeerLink&) = delete;
  PeerLink& operator=(const PeerLink&) = delete;
  PeerLink(PeerLink&&) = delete;
  PeerLink& operator=(PeerLink&&) = delete;

  void start();
  /// Hangs up and joins the thread. Idempotent.
  void stop();

  /// Queues `message`; false (and counted as dropped) when not connected or full.
  bool enqueue(const std::shared_ptr<const OutMessage>& message);

  [[nodiscard]] bool connected() const { return connected_.load(); }
  /// The address turned out to be this node itself: it is not dialled again.
  [[nodiscard]] bool is_self() const { return self_.load(); }
  [[nodiscard]] const Endpoint& endpoint() const { return endpoint_; }
  /// The peer's node id once a handshake succeeded.
  [[nodiscard]] std::string peer_id() const;

 private:
  void run();
  /// Dials and authenticates; returns false when the address is this node.
  /// On success stream_ is the connection's (encrypting) stream.
  bool connect_and_handshake(Poco::Net::StreamSocket& socket);
  void send_loop(Poco::Net::StreamSocket& socket);
  void set_connected(bool value);
  /// Sleeps up to `delay` unless stopped; false when stopping.
  bool backoff(std::chrono::milliseconds delay);

  const Endpoint endpoint_;
  const Key& key_;
  const std::string self_id_;
  const LinkOptions options_;
  MeshMetrics& metrics_;
  std::function<void()> on_state_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<const OutMessage>> queue_;
  std::string peer_id_;
  std::unique_ptr<SendStream> stream_;  ///< the current connection's; link thread only
  Poco::Net::StreamSocket socket_;      ///< the current one, to shut down from stop()
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::atomic<bool> self_{false};
  std::thread thread_;
};

}  // namespace eltrix::cluster
