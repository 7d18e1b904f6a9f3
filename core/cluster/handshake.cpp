#include "cluster/handshake.h"

#include <sodium.h>

#include <stdexcept>

namespace eltrix::cluster {

namespace {

void ensure_sodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw std::runtime_error("libsodium failed to initialise");
}

void put_id(std::string& out, std::string_view id) {
  out.push_back(static_cast<char>(id.size()));
  out.append(id);
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

bool take_bytes(std::string_view in, std::size_t& pos, std::uint8_t* out, std::size_t n) {
  if (in.size() - pos < n || pos > in.size()) return false;
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(in[pos + i]);
  pos += n;
  return true;
}

std::string transcript_bytes(const Transcript& t) {
  std::string out(kProtocolMagic);
  out.append(reinterpret_cast<const char*>(t.dialer_nonce.data()), t.dialer_nonce.size());
  out.append(reinterpret_cast<const char*>(t.acceptor_nonce.data()), t.acceptor_nonce.size());
  put_id(out, t.dialer_id);
  put_id(out, t.acceptor_id);
  return out;
}

std::array<std::uint8_t, 32> hmac(const Key& key, std::string_view label, const Transcript& t) {
  std::string message(label);
  message.push_back('\0');
  message += transcript_bytes(t);
  std::array<std::uint8_t, 32> out{};
  crypto_auth_hmacsha256(out.data(), reinterpret_cast<const unsigned char*>(message.data()),
                         message.size(), key.data());
  return out;
}

}  // namespace

Nonce random_nonce() {
  ensure_sodium();
  Nonce nonce{};
  randombytes_buf(nonce.data(), nonce.size());
  return nonce;
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
  out.append(reinterpret_cast<const char*>(hello.nonce.data()), hello.nonce.size());
  put_id(out, hello.node_id);
  return out;
}

std::optional<Hello> decode_hello(std::string_view payload) {
  if (!payload.starts_with(kProtocolMagic)) return std::nullopt;
  Hello hello;
  std::size_t pos = kProtocolMagic.size();
  if (!take_bytes(payload, pos, hello.nonce.data(), hello.nonce.size())) return std::nullopt;
  if (!take_id(payload, pos, hello.node_id) || pos != payload.size()) return std::nullopt;
  return hello;
}

std::string encode_challenge(const Challenge& challenge) {
  std::string out(reinterpret_cast<const char*>(challenge.nonce.data()), challenge.nonce.size());
  put_id(out, challenge.node_id);
  out.append(reinterpret_cast<const char*>(challenge.mac.data()), challenge.mac.size());
  return out;
}

std::optional<Challenge> decode_challenge(std::string_view payload) {
  Challenge challenge;
  std::size_t pos = 0;
  if (!take_bytes(payload, pos, challenge.nonce.data(), challenge.nonce.size())) {
    return std::nullopt;
  }
  if (!take_id(payload, pos, challenge.node_id)) return std::nullopt;
  if (!take_bytes(payload, pos, challenge.mac.data(), challenge.mac.size()) ||
      pos != payload.size()) {
    return std::nullopt;
  }
  return challenge;
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

Key session_key(const Key& key, const Transcript& t) {
  return hmac(key, "session", t);
}

}  // namespace eltrix::cluster
