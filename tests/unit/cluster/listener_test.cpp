// The mesh's two ends over real loopback sockets: a Listener, and either a
// PeerLink or a hand-driven dialer that can misbehave (wrong key, tampered
// or replayed frames).
#include "cluster/listener.h"
#include "cluster/frame.h"
#include "cluster/handshake.h"
#include "cluster/mesh_metrics.h"
#include "cluster/messages.h"
#include "cluster/peer_link.h"
#include "cluster/socket_io.h"
#include "metrics/registry.h"

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>

using namespace eltrix;
using namespace eltrix::cluster;
using namespace std::chrono_literals;

namespace {

const Key kKey = derive_cluster_key(std::string(40, 'k'));

/// Waits (up to 5 s) until `registry` renders `line`.
bool wait_rendered(metrics::Registry& registry, const std::string& line) {
  for (int i = 0; i < 500; ++i) {
    if (registry.render().find(line) != std::string::npos) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}
const Key kWrongKey = derive_cluster_key(std::string(40, 'w'));

/// A Listener on 127.0.0.1 (any port) recording what it delivers.
struct Server {
  metrics::Registry registry;
  MeshMetrics metrics{registry};
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::pair<std::uint8_t, std::string>> delivered;
  Listener listener{ListenerOptions{.bind_address = "127.0.0.1", .port = 0}, kKey, "server-node",
                    metrics, [this](std::uint8_t type, std::string_view payload) {
                      std::lock_guard lock(mutex);
                      delivered.emplace_back(type, std::string(payload));
                      cv.notify_all();
                    }};

  Server() { listener.start(); }

  bool wait_delivered(std::size_t n) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, 5s, [&] { return delivered.size() >= n; });
  }
  bool wait_metric(const std::string& line) { return wait_rendered(registry, line); }
};

/// A dialer driven step by step.
struct RawDialer {
  Poco::Net::StreamSocket socket;
  FrameReader reader;
  std::atomic<bool> stopping{false};
  Transcript t;

  explicit RawDialer(std::uint16_t port) {
    socket.connect(Poco::Net::SocketAddress("127.0.0.1", port), Poco::Timespan(2, 0));
    socket.setReceiveTimeout(Poco::Timespan(0, 100000));
  }
  std::string read() {
    return read_frame(socket, reader, std::chrono::steady_clock::now() + 5s, stopping);
  }
  /// Runs the handshake proving `key`; returns whether the server welcomed us.
  bool handshake(const Key& key) {
    t.dialer_nonce = random_nonce();
    t.dialer_id = "raw-dialer";
    send_all(socket, encode_plain_frame(kHelloFrame, encode_hello({t.dialer_nonce, t.dialer_id})));
    auto challenge = decode_challenge(plain_frame(read())->payload);
    REQUIRE(challenge);
    t.acceptor_nonce = challenge->nonce;
    t.acceptor_id = challenge->node_id;
    const Mac proof = dialer_mac(key, t);
    send_all(socket, encode_plain_frame(kProofFrame, std::string(proof.begin(), proof.end())));
    try {
      auto welcome = plain_frame(read());
      return welcome && welcome->type == kWelcomeFrame &&
             mac_equal(welcome_mac(key, t), welcome->payload);
    } catch (const ConnectionClosed&) {
      return false;
    }
  }
  /// True once the server has closed the connection.
  bool closed_by_server() {
    try {
      read();
    } catch (const ConnectionClosed& e) {
      return std::string(e.what()) == "closed by the peer";
    }
    return false;
  }
};

}  // namespace

TEST_CASE("mesh: a peer link with the cluster key delivers messages in order",
          "[cluster][socket]") {
  Server server;
  metrics::Registry registry;
  MeshMetrics metrics(registry);
  PeerLink link({"127.0.0.1", server.listener.port()}, kKey, "client-node", {}, metrics, {});
  link.start();
  for (int i = 0; i < 200 && !link.connected(); ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(link.connected());
  CHECK(link.peer_id() == "server-node");
  for (int i = 0; i < 3; ++i) {
    CHECK(link.enqueue(std::make_shared<const OutMessage>(
        OutMessage{static_cast<std::uint8_t>(MessageType::wake),
                   encode_wake({"room:" + std::to_string(i)})})));
  }
  REQUIRE(server.wait_delivered(3));
  CHECK(server.delivered[0].second == encode_wake({"room:0"}));
  CHECK(server.delivered[2].second == encode_wake({"room:2"}));
  CHECK(server.wait_metric("eltrix_cluster_inbound_connections 1"));
  CHECK(wait_rendered(registry, "eltrix_cluster_messages_sent_total{type=\"wake\"} 3"));
  link.stop();
  CHECK(server.wait_metric("eltrix_cluster_inbound_connections 0"));
}

TEST_CASE("mesh: a peer without the cluster key is refused on both sides", "[cluster][socket]") {
  Server server;
  SECTION("it dials us: its proof fails") {
    RawDialer dialer(server.listener.port());
    CHECK_FALSE(dialer.handshake(kWrongKey));
    CHECK(server.wait_metric("eltrix_cluster_auth_failures_total{reason=\"bad_proof\"} 1"));
    CHECK(server.registry.render().find("eltrix_cluster_inbound_connections 0") !=
          std::string::npos);
  }
  SECTION("we dial it: its challenge fails, nothing is sent") {
    metrics::Registry registry;
    MeshMetrics metrics(registry);
    PeerLink link({"127.0.0.1", server.listener.port()}, kWrongKey, "client-node", {}, metrics, {});
    link.start();
    CHECK(wait_rendered(registry, "eltrix_cluster_auth_failures_total{reason=\"bad_proof\"} 1"));
    CHECK_FALSE(link.connected());
    CHECK_FALSE(link.enqueue(std::make_shared<const OutMessage>(OutMessage{32, "{}"})));
    link.stop();
  }
  CHECK(server.delivered.empty());
}

TEST_CASE("mesh: a tampered or replayed frame closes the connection", "[cluster][socket]") {
  Server server;
  RawDialer dialer(server.listener.port());
  REQUIRE(dialer.handshake(kKey));
  const Key session = session_key(kKey, dialer.t);
  const std::string first = seal_frame(session, 0, 32, encode_wake({"room:a"}));
  send_all(dialer.socket, first);
  REQUIRE(server.wait_delivered(1));

  SECTION("tampered") {
    std::string second = seal_frame(session, 1, 32, encode_wake({"room:b"}));
    second[8] = static_cast<char>(second[8] ^ 0x20);
    send_all(dialer.socket, second);
  }
  SECTION("replayed") {
    send_all(dialer.socket, first);  // valid bytes, but frame 1 is expected now
  }
  SECTION("sealed with the cluster key instead of the session key") {
    send_all(dialer.socket, seal_frame(kKey, 1, 32, encode_wake({"room:c"})));
  }
  CHECK(server.wait_metric("eltrix_cluster_auth_failures_total{reason=\"bad_frame\"} 1"));
  CHECK(dialer.closed_by_server());
  CHECK(server.delivered.size() == 1);
}

TEST_CASE("mesh: a link that reaches this node itself stops dialling", "[cluster][socket]") {
  Server server;
  metrics::Registry registry;
  MeshMetrics metrics(registry);
  // Same node id as the server: the strategy listed our own address.
  PeerLink link({"127.0.0.1", server.listener.port()}, kKey, "server-node", {}, metrics, {});
  link.start();
  for (int i = 0; i < 300 && !link.is_self(); ++i) std::this_thread::sleep_for(10ms);
  CHECK(link.is_self());
  CHECK_FALSE(link.connected());
  link.stop();
}

TEST_CASE("mesh: something that is not a mesh peer is refused", "[cluster][socket]") {
  Server server;
  RawDialer dialer(server.listener.port());
  send_all(dialer.socket, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(dialer.closed_by_server());
  // "GET " is read as a length beyond the limit: the connection is dropped.
  CHECK(server.delivered.empty());
}
