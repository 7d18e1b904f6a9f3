#include "client/media_response.h"

#include "client/context.h"
#include "errors/error.h"
#include "http/deferred.h"
#include "media/content_headers.h"
#include "media/media_service.h"

#include <atomic>
#include <charconv>
#include <mutex>

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

http::Response not_yet_uploaded() {
  return http::Response::error(
      http::MatrixError(504, "M_NOT_YET_UPLOADED", "The media has not been uploaded yet"));
}

/// A download parked until its media is uploaded: holds a connection, no
/// thread. The answer is built on a worker (Response::on_worker), because it
/// opens the media store and streams from it.
class UploadWait final : public http::Deferred, public std::enable_shared_from_this<UploadWait> {
 public:
  UploadWait(media::MediaService& media, std::string media_id, std::chrono::milliseconds wait,
             std::function<http::Response()> build)
      : media_(media), media_id_(std::move(media_id)), wait_(wait), build_(std::move(build)) {}

  void start(std::function<void(http::Response)> complete) override {
    std::unique_lock lock(mutex_);
    complete_ = std::move(complete);
    std::weak_ptr<UploadWait> weak = shared_from_this();
    lock.unlock();
    const auto id = media_.wait_for_upload(media_id_, wait_, [weak] {
      if (auto self = weak.lock()) self->ready();
    });
    lock.lock();
    if (id == 0) {
      // Too many downloads wait already: answer at once, as a timeout would.
      finish_locked(lock, not_yet_uploaded());
      return;
    }
    waiter_ = id;
  }

  void cancel() override {
    std::unique_lock lock(mutex_);
    if (done_ || waiter_ == 0) return;
    media_.cancel_wait(waiter_);
    finish_locked(lock, not_yet_uploaded());  // the client is gone or the node drains
  }

 private:
  void ready() {
    std::unique_lock lock(mutex_);
    // Uploaded, gone or timed out: the worker's find_uploaded() tells which.
    finish_locked(lock, http::Response::on_worker(build_));
  }

  void finish_locked(std::unique_lock<std::mutex>& lock, http::Response response) {
    if (done_) return;
    done_ = true;
    auto complete = std::move(complete_);
    lock.unlock();
    if (complete) complete(std::move(response));
  }

  media::MediaService& media_;
  const std::string media_id_;
  const std::chrono::milliseconds wait_;
  const std::function<http::Response()> build_;
  std::mutex mutex_;
  std::function<void(http::Response)> complete_;
  std::uint64_t waiter_ = 0;
  bool done_ = false;
};

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

http::Response when_uploaded(Context& ctx, const http::Request& req, std::string_view media_id,
                             std::function<http::Response()> build) {
  const auto wait = download_wait(req);
  try {
    // Uploaded (or unknown) media is answered at once: one lookup, as before.
    return build();
  } catch (const errors::Error& e) {
    if (e.kind() != errors::Kind::not_ready || wait.count() == 0) throw;
  }
  return http::Response::deferred(
      std::make_shared<UploadWait>(ctx.media, std::string(media_id), wait, std::move(build)));
}

}  // namespace eltrix::client
