#include "cluster/frame.h"

#include <sodium.h>

#include <array>

namespace eltrix::cluster {

namespace {

void put_u32(std::string& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> static_cast<unsigned>(shift)) & 0xFFU));
  }
}

std::array<unsigned char, 8> sequence_bytes(std::uint64_t sequence) {
  std::array<unsigned char, 8> out{};
  for (std::size_t i = 0; i < 8; ++i) {
    out[i] = static_cast<unsigned char>((sequence >> (8 * (7 - i))) & 0xFFU);
  }
  return out;
}

/// HMAC-SHA-256 over sequence || body-without-tag.
std::array<unsigned char, kTagBytes> frame_tag(const Key& session, std::uint64_t sequence,
                                               std::string_view body) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, session.data(), session.size());
  const auto seq = sequence_bytes(sequence);
  crypto_auth_hmacsha256_update(&state, seq.data(), seq.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()),
                                body.size());
  std::array<unsigned char, kTagBytes> tag{};
  crypto_auth_hmacsha256_final(&state, tag.data());
  return tag;
}

}  // namespace

std::string encode_plain_frame(std::uint8_t type, std::string_view payload) {
  std::string out;
  out.reserve(5 + payload.size());
  put_u32(out, static_cast<std::uint32_t>(1 + payload.size()));
  out.push_back(static_cast<char>(type));
  out.append(payload);
  return out;
}

std::string seal_frame(const Key& session, std::uint64_t sequence, std::uint8_t type,
                       std::string_view payload) {
  std::string out;
  out.reserve(5 + payload.size() + kTagBytes);
  put_u32(out, static_cast<std::uint32_t>(1 + payload.size() + kTagBytes));
  out.push_back(static_cast<char>(type));
  out.append(payload);
  const auto tag = frame_tag(session, sequence, std::string_view(out).substr(4));
  out.append(reinterpret_cast<const char*>(tag.data()), tag.size());
  return out;
}

std::optional<Frame> open_frame(const Key& session, std::uint64_t sequence, std::string_view body) {
  if (body.size() < 1 + kTagBytes) return std::nullopt;
  const std::string_view signed_part = body.substr(0, body.size() - kTagBytes);
  const std::string_view tag = body.substr(body.size() - kTagBytes);
  const auto expected = frame_tag(session, sequence, signed_part);
  // sodium_memcmp runs in constant time: the comparison leaks nothing about
  // how much of a forged tag was right.
  if (sodium_memcmp(expected.data(), tag.data(), kTagBytes) != 0) return std::nullopt;
  return Frame{static_cast<std::uint8_t>(signed_part.front()), std::string(signed_part.substr(1))};
}

std::optional<Frame> plain_frame(std::string_view body) {
  if (body.empty()) return std::nullopt;
  return Frame{static_cast<std::uint8_t>(body.front()), std::string(body.substr(1))};
}

void FrameReader::feed(std::string_view bytes) {
  // Compact once the consumed prefix dominates, so the buffer stays about one
  // frame long however long the connection lives.
  if (offset_ > 0 && offset_ >= buffer_.size() / 2) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  buffer_.append(bytes);
}

std::optional<std::string> FrameReader::next() {
  if (buffered() < 4) return std::nullopt;
  std::uint32_t length = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    length = (length << 8U) | static_cast<unsigned char>(buffer_[offset_ + i]);
  }
  if (length == 0 || length > kMaxFrameBytes) {
    throw FrameError("frame length " + std::to_string(length) + " outside 1.." +
                     std::to_string(kMaxFrameBytes));
  }
  if (buffered() < 4 + static_cast<std::size_t>(length)) return std::nullopt;
  std::string body = buffer_.substr(offset_ + 4, length);
  offset_ += 4 + length;
  return body;
}

}  // namespace eltrix::cluster
