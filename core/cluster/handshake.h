// The mutual challenge-response that opens every mesh connection, and the key
// agreement that encrypts it (protocol version 2). Pure functions over bytes,
// so tests can play either side; peer_link.cpp (dialer) and
// acceptor_handshake.cpp (acceptor) run them.
//
//   dialer   -> HELLO      magic "ELTRIXC2", epk_d, id_d
//   acceptor -> CHALLENGE  epk_a, id_a, mac_a = HMAC(K, "acceptor" || T)
//   dialer   -> PROOF      mac_d = HMAC(K, "dialer" || T), stream header
//   acceptor -> WELCOME    mac_w = HMAC(K, "welcome" || T)  (the proof passed)
//
// epk_d and epk_a are X25519 public keys made fresh for this connection;
// T (the transcript) = magic, epk_d, epk_a, id_d, id_l (length-prefixed).
// K is the cluster key (cluster_key.h). Each side proves it holds K over a
// transcript holding the other side's fresh key, so neither a recording nor a
// reflected MAC passes (the labels differ), and a man in the middle cannot
// substitute his own ephemeral keys. Both MACs are checked in constant time.
//
// The frames the dialer sends afterwards are encrypted (secure_stream.h) with
//   S = BLAKE2b-256(key K, "eltrix mesh v2 dialer to acceptor" || 0 || X || T)
// where X is the crypto_kx session key of the two ephemeral key pairs (the
// dialer's tx, the acceptor's rx). A passive observer without K learns
// nothing; one who steals K later still lacks X (the ephemeral secrets are
// gone), and a replayed old session meets fresh keys and fails.
//
// Node ids are random per process start; a dialer that meets its own id has
// dialled itself (strategies may list this node) and stops dialling that
// address.
#pragma once

#include "cluster/cluster_key.h"
#include "cluster/secure_stream.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::cluster {

/// Frame types of the handshake (see messages.h for the rest).
inline constexpr std::uint8_t kHelloFrame = 1;
inline constexpr std::uint8_t kChallengeFrame = 2;
inline constexpr std::uint8_t kProofFrame = 3;
inline constexpr std::uint8_t kWelcomeFrame = 4;

inline constexpr std::size_t kPublicKeyBytes = 32;
inline constexpr std::size_t kMacBytes = 32;
inline constexpr std::size_t kMaxNodeIdBytes = 64;
/// Identifies the protocol and its version in HELLO.
inline constexpr std::string_view kProtocolMagic = "ELTRIXC2";
/// Every version's magic starts so (version 1 was "ELTRIXC1", plaintext).
inline constexpr std::string_view kProtocolFamily = "ELTRIXC";

using PublicKey = std::array<std::uint8_t, kPublicKeyBytes>;
using Mac = std::array<std::uint8_t, kMacBytes>;

/// A connection's own X25519 key pair; the secret half is wiped on destruction.
struct EphemeralKey {
  PublicKey public_key{};
  std::array<std::uint8_t, 32> secret_key{};
  EphemeralKey();
  ~EphemeralKey();
  EphemeralKey(const EphemeralKey&) = delete;
  EphemeralKey& operator=(const EphemeralKey&) = delete;
  EphemeralKey(EphemeralKey&&) = delete;
  EphemeralKey& operator=(EphemeralKey&&) = delete;
};

/// A fresh random node id (hex), distinct for every process start.
std::string random_node_id();

struct Hello {
  PublicKey key{};
  std::string node_id;
};
struct Challenge {
  PublicKey key{};
  std::string node_id;
  Mac mac{};
};
struct Proof {
  Mac mac{};
  StreamHeader header{};
};

std::string encode_hello(const Hello& hello);
/// nullopt when malformed or another protocol version.
std::optional<Hello> decode_hello(std::string_view payload);
/// The HELLO of another version of this protocol (an older node): worth a
/// clearer log line than "malformed".
bool is_other_version_hello(std::string_view payload);
std::string encode_challenge(const Challenge& challenge);
std::optional<Challenge> decode_challenge(std::string_view payload);
std::string encode_proof(const Proof& proof);
std::optional<Proof> decode_proof(std::string_view payload);

/// Both fresh keys and both ids, in the order the MACs bind them.
struct Transcript {
  PublicKey dialer_key{};
  PublicKey acceptor_key{};
  std::string dialer_id;
  std::string acceptor_id;
};

Mac acceptor_mac(const Key& key, const Transcript& t);
Mac dialer_mac(const Key& key, const Transcript& t);
Mac welcome_mac(const Key& key, const Transcript& t);
/// Constant-time comparison of a received MAC with the expected one.
bool mac_equal(const Mac& expected, std::string_view received);

/// The key of the dialer-to-acceptor stream, computed by either side with
/// its own ephemeral key (`ours`, which must be the dialer's or acceptor's
/// key in `t` as `dialer` says). nullopt when the other side's public key is
/// unusable (a low-order point): the handshake fails.
std::optional<Key> stream_key(const Key& key, const Transcript& t, const EphemeralKey& ours,
                              bool dialer);

}  // namespace eltrix::cluster
