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
  Hello hello{random_nonce(), "node-a"};
  auto decoded = decode_hello(encode_hello(hello));
  REQUIRE(decoded);
  CHECK(decoded->nonce == hello.nonce);
  CHECK(decoded->node_id == "node-a");
  CHECK_FALSE(decode_hello("ELTRIXC0" + encode_hello(hello).substr(8)));  // other version
  CHECK_FALSE(decode_hello(encode_hello(hello) + "x"));                   // trailing bytes
  CHECK_FALSE(decode_hello(encode_hello(hello).substr(0, 20)));           // truncated
  CHECK_FALSE(decode_hello(""));

  Challenge challenge{random_nonce(), "node-b", {}};
  challenge.mac.fill(9);
  auto c = decode_challenge(encode_challenge(challenge));
  REQUIRE(c);
  CHECK(c->node_id == "node-b");
  CHECK(c->mac == challenge.mac);
  CHECK_FALSE(decode_challenge(encode_challenge(challenge).substr(1)));
  CHECK(random_node_id() != random_node_id());
  CHECK(random_node_id().size() == 16);
}

TEST_CASE("cluster handshake: both sides prove the key; a wrong key or a reflected MAC fails",
          "[cluster][handshake]") {
  const Key key = derive_cluster_key(std::string(40, 's'));
  const Key wrong = derive_cluster_key(std::string(40, 't'));
  Transcript t{random_nonce(), random_nonce(), "dialer", "acceptor"};

  CHECK(mac_equal(acceptor_mac(key, t), bytes(acceptor_mac(key, t))));
  CHECK_FALSE(mac_equal(acceptor_mac(key, t), bytes(acceptor_mac(wrong, t))));
  CHECK_FALSE(mac_equal(dialer_mac(key, t), bytes(dialer_mac(wrong, t))));
  // The acceptor's MAC is no proof for the dialer (and the reverse).
  CHECK_FALSE(mac_equal(dialer_mac(key, t), bytes(acceptor_mac(key, t))));
  CHECK_FALSE(mac_equal(welcome_mac(key, t), bytes(dialer_mac(key, t))));
  CHECK_FALSE(mac_equal(dialer_mac(key, t), "short"));

  // Fresh nonces: a recorded proof does not pass in another handshake.
  Transcript other = t;
  other.acceptor_nonce = random_nonce();
  CHECK_FALSE(mac_equal(dialer_mac(key, other), bytes(dialer_mac(key, t))));
  // Ids are bound too.
  Transcript renamed = t;
  renamed.dialer_id = "mallory";
  CHECK_FALSE(mac_equal(dialer_mac(key, renamed), bytes(dialer_mac(key, t))));
  // Every connection has its own session key.
  CHECK(session_key(key, t) != session_key(key, other));
  CHECK(session_key(key, t) != key);
}
