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
#include <filesystem>
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
  Listener listener;

  explicit Server(ListenerOptions options = {.bind_address = "127.0.0.1", .port = 0})
      : listener(std::move(options), kKey, "server-node", metrics,
                 [this](std::uint8_t type, std::string_view payload) {
                   std::lock_guard lock(mutex);
                   delivered.emplace_back(type, std::string(payload));
                   cv.notify_all();
                 }) {
    listener.start();
  }

  /// The value of one rendered series ("name{labels}"), 0 when absent.
  double metric(const std::string& series) {
    const std::string text = "\n" + registry.render();
    const auto at = text.find("\n" + series + " ");  // a sample line, not # HELP
    if (at == std::string::npos) return 0;
    return std::stod(text.substr(at + series.size() + 2));
  }

  bool wait_delivered(std::size_t n) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, 5s, [&] { return delivered.size() >= n; });
  }
  bool wait_metric(const std::string& line) { return wait_rendered(registry, line); }
};

/// A dialer driven step by step, optionally from a given source address.
struct RawDialer {
  Poco::Net::StreamSocket socket;
  FrameReader reader;
  std::atomic<bool> stopping{false};
  Transcript t;
  std::unique_ptr<EphemeralKey> ephemeral;
  std::unique_ptr<SendStream> stream;

  explicit RawDialer(std::uint16_t port, const std::string& source = "") {
    if (!source.empty()) {
      // Bind the source address first: the listener's caps are per address.
      socket = Poco::Net::StreamSocket(Poco::Net::SocketAddress::IPv4);
      socket.impl()->bind(Poco::Net::SocketAddress(source, 0), false);
    }
    socket.connect(Poco::Net::SocketAddress("127.0.0.1", port), Poco::Timespan(2, 0));
    socket.setReceiveTimeout(Poco::Timespan(0, 100000));
  }
  std::string read() {
    return read_frame(socket, reader, std::chrono::steady_clock::now() + 5s, stopping);
  }
  /// Runs the handshake proving `key`; returns whether the server welcomed us.
  bool handshake(const Key& key) {
    ephemeral = std::make_unique<EphemeralKey>();
    t.dialer_key = ephemeral->public_key;
    t.dialer_id = "raw-dialer";
    send_all(socket, encode_plain_frame(kHelloFrame, encode_hello({t.dialer_key, t.dialer_id})));
    auto challenge = decode_challenge(plain_frame(read())->payload);
    REQUIRE(challenge);
    t.acceptor_key = challenge->key;
    t.acceptor_id = challenge->node_id;
    // The stream key is derived with the key we claim: a wrong one differs.
    stream = std::make_unique<SendStream>(*stream_key(key, t, *ephemeral, true));
    send_all(socket,
             encode_plain_frame(kProofFrame, encode_proof({dialer_mac(key, t), stream->header()})));
    try {
      auto welcome = plain_frame(read());
      return welcome && welcome->type == kWelcomeFrame &&
             mac_equal(welcome_mac(key, t), welcome->payload);
    } catch (const ConnectionClosed&) {
      return false;
    }
  }
  void send(std::uint8_t type, std::string_view payload) {
    std::string bytes;
    stream->seal(bytes, type, payload);
    send_all(socket, bytes);
  }
  /// True once the server has closed the connection.
  bool closed_by_server() {
    try {
      read();
    } catch (const ConnectionClosed& e) {
      return std::string(e.what()) == "closed by the peer";
    } catch (const Poco::Exception&) {
      return true;  // reset
    }
    return false;
  }
};

/// Threads of this process (the listener must not add one per handshake).
std::size_t thread_count() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/task")) {
    ++n;
  }
  return n;
}

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
  std::string first;
  dialer.stream->seal(first, 32, encode_wake({"room:a"}));
  send_all(dialer.socket, first);
  REQUIRE(server.wait_delivered(1));

  SECTION("tampered") {
    std::string second;
    dialer.stream->seal(second, 32, encode_wake({"room:b"}));
    second[8] = static_cast<char>(second[8] ^ 0x20);
    send_all(dialer.socket, second);
  }
  SECTION("replayed") {
    send_all(dialer.socket, first);  // valid bytes, but the stream has moved on
  }
  SECTION("sealed in another stream") {
    SendStream other(kKey);
    std::string bytes;
    other.seal(bytes, 32, encode_wake({"room:c"}));
    send_all(dialer.socket, bytes);
  }
  SECTION("a bad length after the handshake") {
    send_all(dialer.socket, std::string("\x7f\xff\xff\xff", 4));
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
  CHECK(server.wait_metric("eltrix_cluster_auth_failures_total{reason=\"malformed\"} 1"));
}

TEST_CASE("mesh: before authentication a frame beyond a few hundred bytes is cut off at once",
          "[cluster][socket]") {
  Server server;
  RawDialer dialer(server.listener.port());
  const auto started = std::chrono::steady_clock::now();
  SECTION("a 1 MiB HELLO, half sent") {
    send_all(dialer.socket, std::string("\x00\x10\x00\x00\x01", 5) + std::string(1000, 'x'));
  }
  SECTION("a HELLO one byte over the handshake limit") {
    send_all(dialer.socket,
             encode_plain_frame(kHelloFrame, std::string(kMaxHandshakeFrameBytes, 'x')));
  }
  CHECK(dialer.closed_by_server());
  CHECK(std::chrono::steady_clock::now() - started < 1s);  // not at the handshake deadline
  CHECK(server.wait_metric("eltrix_cluster_auth_failures_total{reason=\"malformed\"} 1"));
}

TEST_CASE("mesh: a plaintext version 1 peer is refused and counted as old_version",
          "[cluster][socket]") {
  Server server;
  RawDialer dialer(server.listener.port());
  std::string hello_v1 = "ELTRIXC1" + std::string(32, 'n');
  hello_v1 += static_cast<char>(3);
  hello_v1 += "old";
  send_all(dialer.socket, encode_plain_frame(kHelloFrame, hello_v1));
  CHECK(dialer.closed_by_server());
  CHECK(server.wait_metric("eltrix_cluster_auth_failures_total{reason=\"old_version\"} 1"));
}

TEST_CASE("mesh: a handshake that does not finish in time is closed and counted",
          "[cluster][socket]") {
  Server server({.bind_address = "127.0.0.1", .port = 0, .handshake_timeout = 300ms});
  RawDialer dialer(server.listener.port());
  send_all(dialer.socket, std::string("\x00\x00\x00\x40\x01ELTRIX", 11));  // half a HELLO
  const auto started = std::chrono::steady_clock::now();
  CHECK(dialer.closed_by_server());
  const auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(elapsed >= 200ms);
  CHECK(elapsed < 2s);
  CHECK(server.wait_metric("eltrix_cluster_auth_failures_total{reason=\"timeout\"} 1"));
}

TEST_CASE("mesh: pending handshakes hold no thread, and one address cannot lock a peer out",
          "[cluster][socket]") {
  Server server({.bind_address = "127.0.0.1",
                 .port = 0,
                 .max_handshakes_per_address = 64,
                 .handshake_timeout = 10s});
  const std::size_t threads_before = thread_count();
  std::vector<std::unique_ptr<RawDialer>> flood;
  for (int i = 0; i < 64; ++i) {
    flood.push_back(std::make_unique<RawDialer>(server.listener.port(), "127.0.0.9"));
    send_all(flood.back()->socket, std::string("\x00\x00\x00\x40\x01", 5));
  }
  std::this_thread::sleep_for(200ms);
  CHECK(thread_count() == threads_before);
  // The 65th from that address is refused at once.
  RawDialer one_more(server.listener.port(), "127.0.0.9");
  CHECK(one_more.closed_by_server());
  CHECK(server.metric("eltrix_cluster_connections_refused_total") >= 1);
  // A real peer (another address) still gets in, at once.
  RawDialer peer(server.listener.port(), "127.0.0.8");
  CHECK(peer.handshake(kKey));
  peer.send(32, encode_wake({"room:x"}));
  CHECK(server.wait_delivered(1));
  // Only the authenticated connection got a thread.
  CHECK(thread_count() == threads_before + 1);
}

TEST_CASE("mesh: when every handshake slot is taken, a newcomer evicts one of the busiest address",
          "[cluster][socket]") {
  Server server({.bind_address = "127.0.0.1",
                 .port = 0,
                 .max_handshakes = 4,
                 .max_handshakes_per_address = 4,
                 .handshake_timeout = 10s});
  std::vector<std::unique_ptr<RawDialer>> flood;
  for (int i = 0; i < 4; ++i) {
    flood.push_back(std::make_unique<RawDialer>(server.listener.port(), "127.0.0.9"));
  }
  std::this_thread::sleep_for(100ms);
  RawDialer peer(server.listener.port(), "127.0.0.8");
  CHECK(peer.handshake(kKey));
  CHECK(flood.front()->closed_by_server());  // the oldest of the busiest address
  CHECK(server.metric("eltrix_cluster_connections_refused_total") == 1);
}
