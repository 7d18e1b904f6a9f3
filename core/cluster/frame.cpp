#include "cluster/frame.h"

namespace eltrix::cluster {

namespace {

void put_u32(std::string& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> static_cast<unsigned>(shift)) & 0xFFU));
  }
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
  if (length == 0 || length > max_body_) {
    throw FrameError("frame length " + std::to_string(length) + " outside 1.." +
                     std::to_string(max_body_));
  }
  if (buffered() < 4 + static_cast<std::size_t>(length)) return std::nullopt;
  std::string body = buffer_.substr(offset_ + 4, length);
  offset_ += 4 + length;
  return body;
}

}  // namespace eltrix::cluster
