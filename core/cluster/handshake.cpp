#include "cluster/handshake.h"

#include <sodium.h>

#include <stdexcept>

namespace eltrix::cluster {

namespace {

static_assert(kPublicKeyBytes == crypto_kx_PUBLICKEYBYTES);
static_assert(kKeyBytes == crypto_kx_SESSIONKEYBYTES);

void ensure_sodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw std::runtime_error("libsodium failed to initialise");
}

void put_id(std::string& out, std::string_view id) {
  out.push_back(static_cast<char>(id.size()));
  out.append(id);
}

template <std::size_t N>
void put_bytes(std::string& out, const std::array<std::uint8_t, N>& bytes) {
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

/// Reads a length-prefixed id at `pos`; false when malformed.
bool take_id(std::string_view in, std::size_t& pos, std::string& id) {
  if (pos >= in.size()) return false;
  const auto length = static_cast<unsigned char>(in[pos++]);
  if (length == 0 || length > kMaxNodeIdBytes || in.size() - pos < length) return false;
  id.assign(in.substr(pos, length));
  pos += length;
  return true;
}

template <std::size_t N>
bool take_bytes(std::string_view in, std::size_t& pos, std::array<std::uint8_t, N>& out) {
  if (pos > in.size() || in.size() - pos < N) return false;
  for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<std::uint8_t>(in[pos + i]);
  pos += N;
  return true;
}

std::string transcript_bytes(const Transcript& t) {
  std::string out(kProtocolMagic);
  put_bytes(out, t.dialer_key);
  put_bytes(out, t.acceptor_key);
  put_id(out, t.dialer_id);
  put_id(out, t.acceptor_id);
  return out;
}

Mac hmac(const Key& key, std::string_view label, const Transcript& t) {
  std::string message(label);
  message.push_back('\0');
  message += transcript_bytes(t);
  Mac out{};
  crypto_auth_hmacsha256(out.data(), reinterpret_cast<const unsigned char*>(message.data()),
                         message.size(), key.data());
  return out;
}

}  // namespace

EphemeralKey::EphemeralKey() {
  ensure_sodium();
  crypto_kx_keypair(public_key.data(), secret_key.data());
}

EphemeralKey::~EphemeralKey() {
  sodium_memzero(secret_key.data(), secret_key.size());
}

std::string random_node_id() {
  ensure_sodium();
  std::array<unsigned char, 8> raw{};
  randombytes_buf(raw.data(), raw.size());
  std::string hex(raw.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), raw.data(), raw.size());
  hex.pop_back();
  return hex;
}

std::string encode_hello(const Hello& hello) {
  std::string out(kProtocolMagic);
  put_bytes(out, hello.key);
  put_id(out, hello.node_id);
  return out;
}

std::optional<Hello> decode_hello(std::string_view payload) {
  if (!payload.starts_with(kProtocolMagic)) return std::nullopt;
  Hello hello;
  std::size_t pos = kProtocolMagic.size();
  if (!take_bytes(payload, pos, hello.key)) return std::nullopt;
  if (!take_id(payload, pos, hello.node_id) || pos != payload.size()) return std::nullopt;
  return hello;
}

bool is_other_version_hello(std::string_view payload) {
  return payload.size() >= kProtocolMagic.size() && payload.starts_with(kProtocolFamily) &&
         !payload.starts_with(kProtocolMagic);
}

std::string encode_challenge(const Challenge& challenge) {
  std::string out;
  put_bytes(out, challenge.key);
  put_id(out, challenge.node_id);
  put_bytes(out, challenge.mac);
  return out;
}

std::optional<Challenge> decode_challenge(std::string_view payload) {
  Challenge challenge;
  std::size_t pos = 0;
  if (!take_bytes(payload, pos, challenge.key)) return std::nullopt;
  if (!take_id(payload, pos, challenge.node_id)) return std::nullopt;
  if (!take_bytes(payload, pos, challenge.mac) || pos != payload.size()) return std::nullopt;
  return challenge;
}

std::string encode_proof(const Proof& proof) {
  std::string out;
  put_bytes(out, proof.mac);
  put_bytes(out, proof.header);
  return out;
}

std::optional<Proof> decode_proof(std::string_view payload) {
  Proof proof;
  std::size_t pos = 0;
  if (!take_bytes(payload, pos, proof.mac) || !take_bytes(payload, pos, proof.header) ||
      pos != payload.size()) {
    return std::nullopt;
  }
  return proof;
}

Mac acceptor_mac(const Key& key, const Transcript& t) {
  return hmac(key, "acceptor", t);
}

Mac dialer_mac(const Key& key, const Transcript& t) {
  return hmac(key, "dialer", t);
}

Mac welcome_mac(const Key& key, const Transcript& t) {
  return hmac(key, "welcome", t);
}

bool mac_equal(const Mac& expected, std::string_view received) {
  if (received.size() != expected.size()) return false;
  return sodium_memcmp(expected.data(), received.data(), expected.size()) == 0;
}

std::optional<Key> stream_key(const Key& key, const Transcript& t, const EphemeralKey& ours,
                              bool dialer) {
  ensure_sodium();
  // crypto_kx: the dialer is the "client"; its tx key is the acceptor's rx.
  Key rx{};
  Key tx{};
  const int rc = dialer
                     ? crypto_kx_client_session_keys(rx.data(), tx.data(), ours.public_key.data(),
                                                     ours.secret_key.data(), t.acceptor_key.data())
                     : crypto_kx_server_session_keys(rx.data(), tx.data(), ours.public_key.data(),
                                                     ours.secret_key.data(), t.dialer_key.data());
  if (rc != 0) return std::nullopt;
  const Key& shared = dialer ? tx : rx;
  // Mixing K in binds the stream to the cluster (and to this transcript): the
  // X25519 exchange alone would be unauthenticated.
  constexpr std::string_view kLabel = "eltrix mesh v2 dialer to acceptor";
  crypto_generichash_state state;
  crypto_generichash_init(&state, key.data(), key.size(), kKeyBytes);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(kLabel.data()),
                            kLabel.size());
  const unsigned char zero = 0;
  crypto_generichash_update(&state, &zero, 1);
  crypto_generichash_update(&state, shared.data(), shared.size());
  const std::string transcript = transcript_bytes(t);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(transcript.data()),
                            transcript.size());
  Key out{};
  crypto_generichash_final(&state, out.data(), out.size());
  sodium_memzero(rx.data(), rx.size());
  sodium_memzero(tx.data(), tx.size());
  return out;
}

}  // namespace eltrix::cluster
