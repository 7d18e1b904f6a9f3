#include "cluster/secure_stream.h"

#include <stdexcept>

namespace eltrix::cluster {

namespace {

void ensure_sodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw std::runtime_error("libsodium failed to initialise");
}

void put_u32(std::string& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> static_cast<unsigned>(shift)) & 0xFFU));
  }
}

}  // namespace

SendStream::SendStream(const Key& key) {
  ensure_sodium();
  crypto_secretstream_xchacha20poly1305_init_push(&state_, header_.data(), key.data());
}

SendStream::~SendStream() {
  sodium_memzero(&state_, sizeof state_);
}

void SendStream::seal(std::string& out, std::uint8_t type, std::string_view payload) {
  if (payload.size() > kMaxPayloadBytes) {
    throw std::length_error("mesh payload of " + std::to_string(payload.size()) +
                            " bytes exceeds " + std::to_string(kMaxPayloadBytes));
  }
  // The type travels inside the ciphertext: an observer does not learn which
  // messages are pings and which carry wake-ups.
  std::string plain;
  plain.reserve(1 + payload.size());
  plain.push_back(static_cast<char>(type));
  plain.append(payload);
  const std::size_t body = plain.size() + kStreamOverheadBytes;
  const std::size_t start = out.size();
  put_u32(out, static_cast<std::uint32_t>(body));
  out.resize(start + 4 + body);
  unsigned long long written = 0;
  crypto_secretstream_xchacha20poly1305_push(
      &state_, reinterpret_cast<unsigned char*>(out.data() + start + 4), &written,
      reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), nullptr, 0,
      crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
  sodium_memzero(plain.data(), plain.size());
}

ReceiveStream::ReceiveStream(const Key& key, const StreamHeader& header) {
  ensure_sodium();
  // init_pull only copies the header's nonce and derives the subkey; it does
  // not fail for any 24 bytes. A forged header fails the first open().
  crypto_secretstream_xchacha20poly1305_init_pull(&state_, header.data(), key.data());
}

ReceiveStream::~ReceiveStream() {
  sodium_memzero(&state_, sizeof state_);
}

std::optional<Frame> ReceiveStream::open(std::string_view body) {
  if (broken_ || body.size() < 1 + kStreamOverheadBytes) {
    broken_ = true;
    return std::nullopt;
  }
  std::string plain(body.size() - kStreamOverheadBytes, '\0');
  unsigned long long length = 0;
  unsigned char tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(
          &state_, reinterpret_cast<unsigned char*>(plain.data()), &length, &tag,
          reinterpret_cast<const unsigned char*>(body.data()), body.size(), nullptr, 0) != 0 ||
      tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE || length != plain.size()) {
    broken_ = true;
    return std::nullopt;
  }
  return Frame{static_cast<std::uint8_t>(plain.front()), plain.substr(1)};
}

}  // namespace eltrix::cluster
