#include "cluster/listener.h"

#include "cluster/frame.h"
#include "cluster/handshake.h"
#include "cluster/messages.h"
#include "cluster/socket_io.h"
#include "log/log.h"

#include <Poco/Net/SocketAddress.h>

namespace eltrix::cluster {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("cluster");
  return instance;
}

Poco::Timespan timespan(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

std::string_view bytes_of(const Mac& mac) {
  return {reinterpret_cast<const char*>(mac.data()), mac.size()};
}

}  // namespace

Listener::Listener(ListenerOptions options, const Key& key, std::string self_id,
                   MeshMetrics& metrics, Deliver deliver)
    : options_(std::move(options)),
      key_(key),
      self_id_(std::move(self_id)),
      metrics_(metrics),
      deliver_(std::move(deliver)) {}

Listener::~Listener() {
  stop();
}

void Listener::start() {
  server_.bind(Poco::Net::SocketAddress(options_.bind_address, options_.port), true);
  server_.listen(64);
  port_ = server_.address().port();
  accept_thread_ = std::thread([this] { accept_loop(); });
}

void Listener::stop() {
  if (stopping_.exchange(true)) {
    if (accept_thread_.joinable()) accept_thread_.join();
    return;
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  try {
    server_.close();
  } catch (...) {
  }
  std::list<std::unique_ptr<Connection>> connections;
  {
    std::lock_guard lock(mutex_);
    connections.swap(connections_);
    for (auto& c : connections) {
      try {
        c->socket.shutdown();
      } catch (...) {
      }
    }
  }
  for (auto& c : connections) {
    if (c->thread.joinable()) c->thread.join();
  }
}

void Listener::reap_locked() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if ((*it)->done.load()) {
      if ((*it)->thread.joinable()) (*it)->thread.join();
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void Listener::accept_loop() {
  while (!stopping_.load()) {
    try {
      // A short poll: stop() is noticed without closing the socket under us.
      if (!server_.poll(timespan(std::chrono::milliseconds(200)), Poco::Net::Socket::SELECT_READ)) {
        continue;
      }
      Poco::Net::StreamSocket socket = server_.acceptConnection();
      std::lock_guard lock(mutex_);
      reap_locked();
      if (connections_.size() >= options_.max_connections) {
        metrics_.refused_connections.inc();
        socket.close();
        continue;
      }
      auto connection = std::make_unique<Connection>();
      connection->socket = socket;
      Connection& ref = *connection;
      connections_.push_back(std::move(connection));
      ref.thread = std::thread([this, &ref] {
        serve(ref);
        ref.done.store(true);
      });
    } catch (const std::exception& e) {
      if (!stopping_.load()) logger().warn("cluster accept failed", {{"error", e.what()}});
    }
  }
}

void Listener::serve(Connection& connection) {
  Poco::Net::StreamSocket& socket = connection.socket;
  std::string remote;
  try {
    remote = socket.peerAddress().toString();
  } catch (...) {
    return;
  }
  // Every way out hangs up at once (a refused peer must not linger until
  // the connection is reaped) and uncounts an authenticated connection.
  struct HangUp {
    Poco::Net::StreamSocket& socket;
    metrics::Gauge& inbound;
    bool counted = false;
    HangUp(Poco::Net::StreamSocket& s, metrics::Gauge& g) : socket(s), inbound(g) {}
    HangUp(const HangUp&) = delete;
    HangUp& operator=(const HangUp&) = delete;
    ~HangUp() {
      if (counted) inbound.add(-1);
      try {
        socket.close();
      } catch (...) {
      }
    }
  } hang_up(socket, metrics_.inbound);
  try {
    socket.setNoDelay(true);
    socket.setReceiveTimeout(timespan(std::chrono::milliseconds(250)));
    socket.setSendTimeout(timespan(options_.handshake_timeout));
    const auto handshake_deadline = std::chrono::steady_clock::now() + options_.handshake_timeout;
    FrameReader reader;

    auto first = plain_frame(read_frame(socket, reader, handshake_deadline, stopping_));
    std::optional<Hello> hello;
    if (first && first->type == kHelloFrame) hello = decode_hello(first->payload);
    if (!hello) {
      metrics_.auth_failure("malformed");
      logger().warn("cluster connection refused: not a mesh HELLO", {{"remote", remote}});
      return;
    }
    Transcript t;
    t.dialer_nonce = hello->nonce;
    t.dialer_id = hello->node_id;
    t.acceptor_nonce = random_nonce();
    t.acceptor_id = self_id_;
    Challenge challenge{t.acceptor_nonce, self_id_, acceptor_mac(key_, t)};
    send_all(socket, encode_plain_frame(kChallengeFrame, encode_challenge(challenge)));
    // Our own dialler reached us: the CHALLENGE tells it so; hang up.
    if (hello->node_id == self_id_) return;

    auto proof = plain_frame(read_frame(socket, reader, handshake_deadline, stopping_));
    if (!proof || proof->type != kProofFrame || !mac_equal(dialer_mac(key_, t), proof->payload)) {
      metrics_.auth_failure("bad_proof");
      logger().warn("cluster connection refused: the peer does not prove the cluster key",
                    {{"remote", remote}});
      return;
    }
    send_all(socket, encode_plain_frame(kWelcomeFrame, bytes_of(welcome_mac(key_, t))));
    const Key session = session_key(key_, t);
    metrics_.inbound.add(1);
    hang_up.counted = true;
    logger().info("cluster peer accepted", {{"remote", remote}, {"peer_id", t.dialer_id}});

    std::uint64_t sequence = 0;
    while (true) {
      const auto deadline = std::chrono::steady_clock::now() + options_.idle_timeout;
      const std::string body = read_frame(socket, reader, deadline, stopping_);
      auto frame = open_frame(session, sequence++, body);
      if (!frame) {
        // Tampered, replayed or out of order: nothing after it can be trusted.
        metrics_.auth_failure("bad_frame");
        logger().warn("cluster connection closed: a frame failed authentication",
                      {{"remote", remote}, {"peer_id", t.dialer_id}});
        break;
      }
      metrics_.received(frame->type);
      if (frame->type == static_cast<std::uint8_t>(MessageType::ping)) continue;
      try {
        deliver_(frame->type, frame->payload);
      } catch (const std::exception& e) {
        logger().warn("cluster message not applied",
                      {{"type", std::string(message_type_name(frame->type))}, {"error", e.what()}});
      }
    }
  } catch (const std::exception& e) {
    if (!stopping_.load()) {
      logger().debug("cluster connection ended", {{"remote", remote}, {"error", e.what()}});
    }
  }
}

}  // namespace eltrix::cluster
