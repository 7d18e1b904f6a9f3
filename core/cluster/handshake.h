// The mutual challenge-response that opens every mesh connection. Pure
// functions over bytes, so tests can play either side; peer_link.cpp
// (dialer) and listener.cpp (acceptor) run them over sockets.
//
//   dialer   -> HELLO      magic, nonce_d (32 random bytes), id_d
//   acceptor -> CHALLENGE  nonce_l, id_l, mac_l = HMAC(K, "acceptor" || T)
//   dialer   -> PROOF      mac_d = HMAC(K, "dialer" || T)
//   acceptor -> WELCOME    mac_w = HMAC(K, "welcome" || T)  (the proof passed)
//
// T (the transcript) = magic, nonce_d, nonce_l, id_d, id_l (length-prefixed).
// K is the cluster key (cluster_key.h). Each side proves it holds K over
// nonces the other side chose, so neither a recording nor a reflected MAC
// passes (the labels differ). Both MACs are checked in constant time. The
// frames that follow are authenticated with the session key
// HMAC(K, "session" || T), fresh for every connection.
//
// Node ids are random per process start; a dialer that meets its own id has
// dialled itself (strategies may list this node) and stops dialling that
// address.
#pragma once

#include "cluster/cluster_key.h"

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

inline constexpr std::size_t kNonceBytes = 32;
inline constexpr std::size_t kMacBytes = 32;
inline constexpr std::size_t kMaxNodeIdBytes = 64;
/// Identifies the protocol and its version in HELLO.
inline constexpr std::string_view kProtocolMagic = "ELTRIXC1";

using Nonce = std::array<std::uint8_t, kNonceBytes>;
using Mac = std::array<std::uint8_t, kMacBytes>;

Nonce random_nonce();
/// A fresh random node id (hex), distinct for every process start.
std::string random_node_id();

struct Hello {
  Nonce nonce{};
  std::string node_id;
};
struct Challenge {
  Nonce nonce{};
  std::string node_id;
  Mac mac{};
};

std::string encode_hello(const Hello& hello);
/// nullopt when malformed or another protocol version.
std::optional<Hello> decode_hello(std::string_view payload);
std::string encode_challenge(const Challenge& challenge);
std::optional<Challenge> decode_challenge(std::string_view payload);

/// Both nonces and both ids, in the order the MACs bind them.
struct Transcript {
  Nonce dialer_nonce{};
  Nonce acceptor_nonce{};
  std::string dialer_id;
  std::string acceptor_id;
};

Mac acceptor_mac(const Key& key, const Transcript& t);
Mac dialer_mac(const Key& key, const Transcript& t);
Mac welcome_mac(const Key& key, const Transcript& t);
/// Constant-time comparison of a received MAC with the expected one.
bool mac_equal(const Mac& expected, std::string_view received);
/// The key that authenticates the connection's frames.
Key session_key(const Key& key, const Transcript& t);

}  // namespace eltrix::cluster
