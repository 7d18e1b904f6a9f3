#include "cluster/peer_link.h"

#include "cluster/frame.h"
#include "cluster/handshake.h"
#include "cluster/messages.h"
#include "cluster/socket_io.h"
#include "log/log.h"

#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>

#include <sodium.h>

#include <vector>

namespace eltrix::cluster {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("cluster");
  return instance;
}

/// The handshake failed because the peer does not prove the cluster key.
class AuthFailure : public std::runtime_error {
 public:
  AuthFailure(std::string reason, const std::string& what)
      : std::runtime_error(what), reason_(std::move(reason)) {}
  [[nodiscard]] const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
};

Poco::Timespan timespan(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

}  // namespace

PeerLink::PeerLink(Endpoint endpoint, const Key& key, std::string self_id, LinkOptions options,
                   MeshMetrics& metrics, std::function<void()> on_state)
    : endpoint_(std::move(endpoint)),
      key_(key),
      self_id_(std::move(self_id)),
      options_(options),
      metrics_(metrics),
      on_state_(std::move(on_state)) {}

PeerLink::~PeerLink() {
  stop();
}

void PeerLink::start() {
  thread_ = std::thread([this] { run(); });
}

void PeerLink::stop() {
  stopping_.store(true);
  {
    std::lock_guard lock(mutex_);
    try {
      socket_.shutdown();  // unblocks a send in progress
    } catch (...) {
      // Not connected: nothing to shut down.
    }
    metrics_.queued.add(-static_cast<double>(queue_.size()));
    queue_.clear();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string PeerLink::peer_id() const {
  std::lock_guard lock(mutex_);
  return peer_id_;
}

bool PeerLink::enqueue(const std::shared_ptr<const OutMessage>& message) {
  {
    std::lock_guard lock(mutex_);
    if (!connected_.load()) {
      metrics_.dropped("not_connected");
      return false;
    }
    if (queue_.size() >= options_.queue_limit) {
      metrics_.dropped("queue_full");
      return false;
    }
    queue_.push_back(message);
    metrics_.queued.add(1);
  }
  wake_.notify_one();
  return true;
}

void PeerLink::set_connected(bool value) {
  if (connected_.exchange(value) == value) return;
  if (!value) {
    std::lock_guard lock(mutex_);
    // What was queued for a connection that broke is stale by the time a new
    // one is up; the database recheck covers it.
    for (std::size_t i = 0; i < queue_.size(); ++i) metrics_.dropped("not_connected");
    metrics_.queued.add(-static_cast<double>(queue_.size()));
    queue_.clear();
  }
  if (on_state_) on_state_();
}

bool PeerLink::backoff(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, delay, [this] { return stopping_.load(); });
}

void PeerLink::run() {
  const std::string name = endpoint_key(endpoint_);
  auto delay = options_.min_backoff;
  bool reported_down = false;
  while (!stopping_.load()) {
    Poco::Net::StreamSocket socket;
    try {
      if (!connect_and_handshake(socket)) {
        logger().info("cluster peer is this node; not dialling it", {{"peer", name}});
        self_.store(true);
        if (on_state_) on_state_();
        return;
      }
    } catch (const AuthFailure& e) {
      metrics_.auth_failure(e.reason());
      logger().warn("cluster peer refused: it failed authentication (is its secret the same?)",
                    {{"peer", name}, {"reason", e.reason()}, {"error", e.what()}});
      if (!backoff(options_.max_backoff)) return;
      continue;
    } catch (const std::exception& e) {
      if (!reported_down) {
        logger().info("cluster peer unreachable; retrying", {{"peer", name}, {"error", e.what()}});
        reported_down = true;
      }
      if (!backoff(delay)) return;
      delay = std::min(delay * 2, options_.max_backoff);
      continue;
    }
    reported_down = false;
    delay = options_.min_backoff;
    logger().info("cluster peer connected", {{"peer", name}, {"peer_id", peer_id()}});
    set_connected(true);
    try {
      send_loop(socket);
    } catch (const std::exception& e) {
      if (!stopping_.load()) {
        logger().info("cluster peer connection lost", {{"peer", name}, {"error", e.what()}});
      }
    }
    set_connected(false);
    {
      std::lock_guard lock(mutex_);
      socket_ = Poco::Net::StreamSocket();
    }
    try {
      socket.close();
    } catch (...) {
    }
    if (!backoff(options_.min_backoff)) return;
  }
}

bool PeerLink::connect_and_handshake(Poco::Net::StreamSocket& socket) {
  socket.connect(Poco::Net::SocketAddress(endpoint_.host, endpoint_.port),
                 timespan(options_.connect_timeout));
  {
    std::lock_guard lock(mutex_);
    if (stopping_.load()) throw ConnectionClosed("stopping");
    socket_ = socket;
  }
  socket.setNoDelay(true);
  socket.setSendTimeout(timespan(options_.send_timeout));
  socket.setReceiveTimeout(timespan(std::chrono::milliseconds(250)));
  const auto deadline = std::chrono::steady_clock::now() + options_.handshake_timeout;

  const EphemeralKey ephemeral;
  Transcript t;
  t.dialer_key = ephemeral.public_key;
  t.dialer_id = self_id_;
  send_all(socket, encode_plain_frame(kHelloFrame, encode_hello({t.dialer_key, self_id_})));

  // The acceptor's answers are small too: a peer (or impostor) cannot make
  // this side buffer more than the handshake's limit either.
  FrameReader reader(kMaxHandshakeFrameBytes);
  std::optional<Frame> frame;
  try {
    frame = plain_frame(read_frame(socket, reader, deadline, stopping_));
  } catch (const FrameError& e) {
    throw AuthFailure("malformed", std::string("the peer's answer to HELLO: ") + e.what());
  } catch (const ConnectionClosed& e) {
    if (stopping_.load()) throw;
    // An older node (plaintext protocol v1) hangs up on a v2 HELLO.
    throw ConnectionClosed(std::string(e.what()) +
                           " before answering HELLO (a node running an older, plaintext mesh "
                           "protocol does that; or it is not an Eltrix mesh port)");
  }
  if (!frame || frame->type != kChallengeFrame) {
    throw AuthFailure("malformed", "expected a CHALLENGE frame");
  }
  auto challenge = decode_challenge(frame->payload);
  if (!challenge) throw AuthFailure("malformed", "malformed CHALLENGE");
  t.acceptor_key = challenge->key;
  t.acceptor_id = challenge->node_id;
  const Mac expected = acceptor_mac(key_, t);
  if (!mac_equal(expected, std::string_view(reinterpret_cast<const char*>(challenge->mac.data()),
                                            challenge->mac.size()))) {
    throw AuthFailure("bad_proof", "the peer's CHALLENGE does not prove the cluster key");
  }
  if (challenge->node_id == self_id_) return false;

  auto key = stream_key(key_, t, ephemeral, true);
  if (!key) throw AuthFailure("malformed", "the peer's ephemeral key is unusable");
  auto stream = std::make_unique<SendStream>(*key);
  sodium_memzero(key->data(), key->size());
  send_all(socket,
           encode_plain_frame(kProofFrame, encode_proof({dialer_mac(key_, t), stream->header()})));
  std::optional<Frame> welcome;
  try {
    welcome = plain_frame(read_frame(socket, reader, deadline, stopping_));
  } catch (const FrameError& e) {
    throw AuthFailure("malformed", std::string("the peer's answer to PROOF: ") + e.what());
  }
  if (!welcome || welcome->type != kWelcomeFrame ||
      !mac_equal(welcome_mac(key_, t), welcome->payload)) {
    throw AuthFailure("bad_proof", "the peer did not accept this node's proof");
  }
  stream_ = std::move(stream);
  std::lock_guard lock(mutex_);
  peer_id_ = challenge->node_id;
  return true;
}

void PeerLink::send_loop(Poco::Net::StreamSocket& socket) {
  std::vector<std::shared_ptr<const OutMessage>> batch;
  std::string bytes;
  while (true) {
    batch.clear();
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, options_.ping_interval,
                     [this] { return stopping_.load() || !queue_.empty(); });
      if (stopping_.load()) return;
      // Up to 256 messages per write: one system call carries a burst.
      while (!queue_.empty() && batch.size() < 256) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      metrics_.queued.add(-static_cast<double>(batch.size()));
    }
    bytes.clear();
    if (batch.empty()) {
      stream_->seal(bytes, static_cast<std::uint8_t>(MessageType::ping), "");
      send_all(socket, bytes);
      metrics_.sent(static_cast<std::uint8_t>(MessageType::ping));
      continue;
    }
    for (const auto& message : batch) {
      stream_->seal(bytes, message->type, message->payload);
    }
    send_all(socket, bytes);
    for (const auto& message : batch) metrics_.sent(message->type);
  }
}

}  // namespace eltrix::cluster
