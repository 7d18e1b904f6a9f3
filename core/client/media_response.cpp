#include "client/media_response.h"

#include "media/content_headers.h"

#include <charconv>

namespace eltrix::client {

namespace {

/// A media-store stream as the HTTP server's streamed body.
class StoreBody final : public http::StreamedBody {
 public:
  explicit StoreBody(std::unique_ptr<plugin::ByteSource> source) : source_(std::move(source)) {}
  std::size_t read(char* buffer, std::size_t capacity) override {
    return source_->read(buffer, capacity);
  }

 private:
  std::unique_ptr<plugin::ByteSource> source_;
};

constexpr std::int64_t kDefaultWaitMs = 20000;

}  // namespace

http::Response media_stream_response(int status, std::string content_type,
                                     std::unique_ptr<plugin::ByteSource> source,
                                     std::uint64_t length) {
  auto out = http::Response::streamed(status, std::move(content_type),
                                      std::make_shared<StoreBody>(std::move(source)), length);
  for (const auto& header : media::security_headers()) out.headers.push_back(header);
  out.headers.emplace_back("Cache-Control", "private, max-age=86400, immutable");
  return out;
}

std::chrono::milliseconds download_wait(const http::Request& req) {
  auto text = req.query("timeout_ms");
  if (!text) return std::chrono::milliseconds(kDefaultWaitMs);
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size() || value < 0) {
    throw http::MatrixError(400, "M_INVALID_PARAM",
                            "timeout_ms must be a non-negative integer (milliseconds)");
  }
  return std::chrono::milliseconds(value);
}

}  // namespace eltrix::client
