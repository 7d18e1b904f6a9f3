#include "cluster/listener.h"

#include "cluster/frame.h"
#include "cluster/messages.h"
#include "cluster/socket_io.h"
#include "log/log.h"

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocketImpl.h>

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace eltrix::cluster {

namespace {

using Clock = std::chrono::steady_clock;

const log::Logger& logger() {
  static const log::Logger instance("cluster");
  return instance;
}

Poco::Timespan timespan(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

void close_quietly(Poco::Net::StreamSocket& socket) {
  try {
    socket.close();
  } catch (...) {
    // Already closed or reset: nothing left to release.
  }
}

/// Writes all of `bytes` to a non-blocking socket; false if it would block.
/// Handshake replies are a few hundred bytes into an empty send buffer, so
/// only a peer that is not reading (or gone) can make this fail.
bool send_now(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

/// Logs at most once per `period`, saying how many were not logged.
class Throttle {
 public:
  explicit Throttle(std::chrono::seconds period) : period_(period) {}
  /// nullopt: stay quiet; else the number suppressed since the last line.
  std::optional<std::size_t> allow() {
    const auto now = Clock::now();
    if (now - last_ < period_) {
      ++suppressed_;
      return std::nullopt;
    }
    last_ = now;
    return std::exchange(suppressed_, 0);
  }

 private:
  std::chrono::seconds period_;
  Clock::time_point last_{};
  std::size_t suppressed_ = 0;
};

// Accept thread only (a flood must not flood the log too). An older peer has
// its own, so garbage from elsewhere never hides why a real node is refused.
Throttle& failure_log() {
  static Throttle throttle(std::chrono::seconds(1));
  return throttle;
}
Throttle& old_version_log() {
  static Throttle throttle(std::chrono::seconds(1));
  return throttle;
}
Throttle& refusal_log() {
  static Throttle throttle(std::chrono::seconds(10));
  return throttle;
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
  try {
    server_.bind(Poco::Net::SocketAddress(options_.bind_address, options_.port), true);
    server_.listen(256);
  } catch (const Poco::Exception& e) {
    // Poco's what() is only the class name ("Net Exception"); the operator
    // needs the address and the reason (address in use, not permitted, ...).
    throw std::runtime_error("cannot listen on " + options_.bind_address + ":" +
                             std::to_string(options_.port) + ": " + e.displayText());
  }
  server_.setBlocking(false);  // accept() until EAGAIN after each poll
  port_ = server_.address().port();
  accept_thread_ = std::thread([this] { accept_loop(); });
}

void Listener::stop() {
  stopping_.store(true);
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

void Listener::refused(const std::string& address, std::string_view why) {
  metrics_.refused_connections.inc();
  if (auto suppressed = refusal_log().allow()) {
    logger().warn("cluster connection refused",
                  {{"address", address},
                   {"reason", std::string(why)},
                   {"refusals_not_logged", std::to_string(*suppressed)}});
  }
}

void Listener::accept_loop() {
  std::vector<pollfd> fds;
  while (!stopping_.load()) {
    // Handshakes past their deadline: a half-sent frame holds nothing long.
    const auto now = Clock::now();
    auto next_deadline = now + std::chrono::milliseconds(200);  // also paces stop()
    for (auto it = pending_.begin(); it != pending_.end();) {
      if ((*it)->deadline <= now) {
        metrics_.auth_failure("timeout");
        logger().debug("cluster handshake timed out", {{"remote", (*it)->remote}});
        drop(it++);
      } else {
        next_deadline = std::min(next_deadline, (*it)->deadline);
        ++it;
      }
    }
    fds.clear();
    fds.push_back({server_.impl()->sockfd(), POLLIN, 0});
    for (const auto& p : pending_) fds.push_back({p->socket.impl()->sockfd(), POLLIN, 0});
    const auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_deadline - now).count() + 1;
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(wait));
    if (ready < 0) {
      if (errno != EINTR) logger().warn("cluster poll failed", {{"errno", std::to_string(errno)}});
      continue;
    }
    if (ready == 0) continue;
    // pending_ is in the order of fds[1..] (nothing was added since).
    std::size_t index = 1;
    for (auto it = pending_.begin(); it != pending_.end(); ++index) {
      if ((fds[index].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !progress(**it)) {
        drop(it++);
      } else {
        ++it;
      }
    }
    if ((fds[0].revents & POLLIN) != 0) accept_ready();
  }
  while (!pending_.empty()) drop(pending_.begin());
}

void Listener::accept_ready() {
  const int server_fd = server_.impl()->sockfd();
  // A bounded batch per wake-up: pending handshakes get their turn too.
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage from{};
    socklen_t from_length = sizeof from;
    const int fd = ::accept4(server_fd, reinterpret_cast<sockaddr*>(&from), &from_length,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) {
        return;
      }
      // Out of descriptors or memory: the backlog waits for the next round.
      logger().warn("cluster accept failed", {{"errno", std::to_string(errno)}});
      return;
    }
    try {
      Poco::Net::StreamSocket socket(new Poco::Net::StreamSocketImpl(fd));
      admit(socket);
    } catch (const std::exception& e) {
      logger().warn("cluster accept failed", {{"error", e.what()}});
    }
  }
}

void Listener::admit(const Poco::Net::StreamSocket& socket) {
  auto p = std::make_unique<Pending>();
  p->socket = socket;  // a shared handle: the caller's copy goes away
  try {
    const Poco::Net::SocketAddress peer = p->socket.peerAddress();
    p->address = peer.host().toString();
    p->remote = peer.toString();
  } catch (...) {
    close_quietly(p->socket);  // reset before we looked at it
    return;
  }
  auto count = pending_per_address_.find(p->address);
  const std::size_t from_address = count == pending_per_address_.end() ? 0 : count->second;
  if (from_address >= options_.max_handshakes_per_address) {
    refused(p->address, "too many handshakes from this address");
    close_quietly(p->socket);
    return;
  }
  if (pending_.size() >= options_.max_handshakes) {
    // Full: make room at the expense of the address holding the most, unless
    // that is the newcomer's own (then it is the one refused).
    auto busiest =
        std::max_element(pending_per_address_.begin(), pending_per_address_.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    if (busiest == pending_per_address_.end() || busiest->second <= from_address + 1) {
      refused(p->address, "too many handshakes in progress");
      close_quietly(p->socket);
      return;
    }
    const std::string victim = busiest->first;
    auto oldest = std::find_if(pending_.begin(), pending_.end(),
                               [&](const auto& q) { return q->address == victim; });
    refused(victim, "evicted by a handshake from a less busy address");
    drop(oldest);
  }
  p->deadline = Clock::now() + options_.handshake_timeout;
  p->handshake = std::make_unique<AcceptorHandshake>(key_, self_id_);
  ++pending_per_address_[p->address];
  pending_.push_back(std::move(p));
}

void Listener::drop(PendingList::iterator it) {
  Pending& p = **it;
  if (auto count = pending_per_address_.find(p.address); count != pending_per_address_.end()) {
    if (--count->second == 0) pending_per_address_.erase(count);
  }
  close_quietly(p.socket);
  pending_.erase(it);
}

bool Listener::progress(Pending& p) {
  // The handshake frames are at most a few hundred bytes: one small read per
  // wake-up is enough, and all a sender can make us hold.
  std::array<char, 512> buffer{};
  const int fd = p.socket.impl()->sockfd();
  const ssize_t received = ::recv(fd, buffer.data(), buffer.size(), 0);
  if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
  if (received <= 0) {
    logger().debug("cluster connection closed during the handshake", {{"remote", p.remote}});
    return false;
  }
  AcceptorHandshake& hs = *p.handshake;
  const std::string reply =
      hs.receive(std::string_view(buffer.data(), static_cast<std::size_t>(received)));
  if (!reply.empty() && !send_now(fd, reply)) return false;
  switch (hs.state()) {
    case AcceptorHandshake::State::awaiting_hello:
    case AcceptorHandshake::State::awaiting_proof: return true;
    case AcceptorHandshake::State::self: return false;
    case AcceptorHandshake::State::failed:
      metrics_.auth_failure(hs.failure());
      if (auto suppressed =
              (hs.failure() == "old_version" ? old_version_log() : failure_log()).allow()) {
        logger().warn(hs.failure() == "old_version"
                          ? "cluster connection refused: the peer runs an older, plaintext mesh "
                            "protocol"
                          : "cluster connection refused: the peer failed the handshake",
                      {{"remote", p.remote},
                       {"reason", hs.failure()},
                       {"error", hs.detail()},
                       {"failures_not_logged", std::to_string(*suppressed)}});
      }
      return false;
    case AcceptorHandshake::State::authenticated: promote(p); return false;
  }
  return false;
}

void Listener::promote(Pending& p) {
  auto connection = std::make_unique<Connection>();
  connection->remote = p.remote;
  connection->peer_id = p.handshake->peer_id();
  connection->stream = p.handshake->take_stream();
  connection->reader = std::move(p.handshake->reader());
  connection->reader.set_max_body(kMaxFrameBytes);
  std::lock_guard lock(mutex_);
  reap_locked();
  if (stopping_.load()) return;
  if (connections_.size() >= options_.max_connections) {
    refused(p.address, "too many authenticated connections");
    return;
  }
  // The reader thread owns the socket from now on; drop() closing the
  // pending entry's handle must not close it, so that handle lets go.
  connection->socket = p.socket;
  p.socket = Poco::Net::StreamSocket();
  Connection& ref = *connection;
  connections_.push_back(std::move(connection));
  ref.thread = std::thread([this, &ref] {
    serve(ref);
    ref.done.store(true);
  });
}

void Listener::serve(Connection& connection) {
  Poco::Net::StreamSocket& socket = connection.socket;
  // Every way out hangs up at once and uncounts the connection.
  struct HangUp {
    Poco::Net::StreamSocket& socket;
    metrics::Gauge& inbound;
    HangUp(Poco::Net::StreamSocket& s, metrics::Gauge& g) : socket(s), inbound(g) {
      inbound.add(1);
    }
    HangUp(const HangUp&) = delete;
    HangUp& operator=(const HangUp&) = delete;
    ~HangUp() {
      inbound.add(-1);
      close_quietly(socket);
    }
  } hang_up(socket, metrics_.inbound);
  const std::string& remote = connection.remote;
  logger().info("cluster peer accepted", {{"remote", remote}, {"peer_id", connection.peer_id}});
  try {
    socket.setBlocking(true);
    socket.setNoDelay(true);
    socket.setReceiveTimeout(timespan(std::chrono::milliseconds(250)));
    while (true) {
      const auto deadline = Clock::now() + options_.idle_timeout;
      const std::string body = read_frame(socket, connection.reader, deadline, stopping_);
      auto frame = connection.stream->open(body);
      if (!frame) {
        // Tampered, replayed or out of order: nothing after it can be trusted.
        metrics_.auth_failure("bad_frame");
        logger().warn("cluster connection closed: a frame failed authentication",
                      {{"remote", remote}, {"peer_id", connection.peer_id}});
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
  } catch (const FrameError& e) {
    metrics_.auth_failure("bad_frame");
    logger().warn("cluster connection closed: bad framing",
                  {{"remote", remote}, {"peer_id", connection.peer_id}, {"error", e.what()}});
  } catch (const std::exception& e) {
    if (!stopping_.load()) {
      logger().debug("cluster connection ended", {{"remote", remote}, {"error", e.what()}});
    }
  }
}

}  // namespace eltrix::cluster
