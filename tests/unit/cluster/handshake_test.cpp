#include "cluster/handshake.h"
#include "cluster/cluster_key.h"

#include <catch2/catch.hpp>

using namespace eltrix::cluster;

namespace {
std::string_view bytes(const Mac& mac) {
  return {reinterpret_cast<const char*>(mac.data()), mac.size()};
}
}  // namespace

TEST_CASE("cluster key: derived, deterministic, distinct per secret", "[cluster][handshake]") {
  const std::string secret(48, 'x');
  CHECK(derive_cluster_key(secret) == derive_cluster_key(secret));
  CHECK(derive_cluster_key(secret) != derive_cluster_key(std::string(48, 'y')));
  // Not the secret itself, nor a plain hash prefix of it.
  const Key key = derive_cluster_key(secret);
  CHECK(std::string(key.begin(), key.end()) != secret.substr(0, 32));
}

TEST_CASE("cluster handshake: messages round-trip and malformed ones are refused",
          "[cluster][handshake]") {
  const EphemeralKey ours;
  Hello hello{ours.public_key, "node-a"};
  auto decoded = decode_hello(encode_hello(hello));
  REQUIRE(decoded);
  CHECK(decoded->key == hello.key);
  CHECK(decoded->node_id == "node-a");
  CHECK_FALSE(decode_hello("ELTRIXC0" + encode_hello(hello).substr(8)));  // other version
  CHECK_FALSE(decode_hello(encode_hello(hello) + "x"));                   // trailing bytes
  CHECK_FALSE(decode_hello(encode_hello(hello).substr(0, 20)));           // truncated
  CHECK_FALSE(decode_hello(""));
  // A version 1 HELLO is recognised as such (for the log), not parsed.
  CHECK(is_other_version_hello("ELTRIXC1" + std::string(33, 'x')));
  CHECK_FALSE(is_other_version_hello(encode_hello(hello)));
  CHECK_FALSE(is_other_version_hello("GET / HTTP/1.1"));

  Challenge challenge{ours.public_key, "node-b", {}};
  challenge.mac.fill(9);
  auto c = decode_challenge(encode_challenge(challenge));
  REQUIRE(c);
  CHECK(c->node_id == "node-b");
  CHECK(c->mac == challenge.mac);
  CHECK_FALSE(decode_challenge(encode_challenge(challenge).substr(1)));

  Proof proof{};
  proof.mac.fill(3);
  proof.header.fill(4);
  auto p = decode_proof(encode_proof(proof));
  REQUIRE(p);
  CHECK(p->mac == proof.mac);
  CHECK(p->header == proof.header);
  CHECK_FALSE(decode_proof(encode_proof(proof).substr(1)));
  CHECK_FALSE(decode_proof(encode_proof(proof) + "x"));

  CHECK(random_node_id() != random_node_id());
  CHECK(random_node_id().size() == 16);
}

TEST_CASE("cluster handshake: both sides prove the key; a wrong key or a reflected MAC fails",
          "[cluster][handshake]") {
  const Key key = derive_cluster_key(std::string(40, 's'));
  const Key wrong = derive_cluster_key(std::string(40, 't'));
  const EphemeralKey d;
  const EphemeralKey a;
  Transcript t{d.public_key, a.public_key, "dialer", "acceptor"};

  CHECK(mac_equal(acceptor_mac(key, t), bytes(acceptor_mac(key, t))));
  CHECK_FALSE(mac_equal(acceptor_mac(key, t), bytes(acceptor_mac(wrong, t))));
  CHECK_FALSE(mac_equal(dialer_mac(key, t), bytes(dialer_mac(wrong, t))));
  // The acceptor's MAC is no proof for the dialer (and the reverse).
  CHECK_FALSE(mac_equal(dialer_mac(key, t), bytes(acceptor_mac(key, t))));
  CHECK_FALSE(mac_equal(welcome_mac(key, t), bytes(dialer_mac(key, t))));
  CHECK_FALSE(mac_equal(dialer_mac(key, t), "short"));

  // Fresh keys: a recorded proof does not pass in another handshake.
  const EphemeralKey a2;
  Transcript other = t;
  other.acceptor_key = a2.public_key;
  CHECK_FALSE(mac_equal(dialer_mac(key, other), bytes(dialer_mac(key, t))));
  // Ids are bound too.
  Transcript renamed = t;
  renamed.dialer_id = "mallory";
  CHECK_FALSE(mac_equal(dialer_mac(key, renamed), bytes(dialer_mac(key, t))));
}

TEST_CASE("cluster handshake: both sides derive the same stream key, fresh per connection",
          "[cluster][handshake]") {
  const Key key = derive_cluster_key(std::string(40, 's'));
  const Key wrong = derive_cluster_key(std::string(40, 't'));
  const EphemeralKey d;
  const EphemeralKey a;
  const Transcript t{d.public_key, a.public_key, "dialer", "acceptor"};
  auto dialer = stream_key(key, t, d, true);
  auto acceptor = stream_key(key, t, a, false);
  REQUIRE(dialer);
  REQUIRE(acceptor);
  CHECK(*dialer == *acceptor);
  CHECK(*dialer != key);
  // Without the cluster key, the X25519 exchange alone gives another key.
  CHECK(*stream_key(wrong, t, d, true) != *dialer);
  // Another acceptor key (another connection): another stream key.
  const EphemeralKey a2;
  Transcript other = t;
  other.acceptor_key = a2.public_key;
  CHECK(*stream_key(key, other, d, true) != *dialer);
  CHECK(*stream_key(key, other, d, true) == *stream_key(key, other, a2, false));
  // A low-order point as the peer's key is refused.
  Transcript zero = t;
  zero.acceptor_key.fill(0);
  CHECK_FALSE(stream_key(key, zero, d, true));
}
