// Signed S3 requests over the connection pool, with retries.
//
// Every request carries host, x-amz-date and x-amz-content-sha256 (the SHA-256
// of its in-memory body; bodies are at most one part) and is signed with
// SigV4 (sigv4.h). Failures that may pass - connection errors, timeouts, 5xx,
// 429/SlowDown - are retried with exponential backoff and full jitter, up to
// s3.retries times, for requests marked repeatable (all but the start of a
// multipart upload, which would leave an orphan upload behind).
#pragma once

#include "connection_pool.h"
#include "s3_error.h"
#include "s3_settings.h"
#include "sigv4.h"

#include <eltrix/plugin/host.h>

#include <Poco/Net/HTTPResponse.h>

#include <array>
#include <istream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::media_s3 {

/// What a request is for: labels metrics and log lines.
enum class Op : std::uint8_t {
  put_object,
  create_multipart,
  upload_part,
  complete_multipart,
  abort_multipart,
  get_object,
  head_object,
  delete_object,
  list_bucket,   // the health check
  list_objects,  // the orphan sweep's listing
  list_uploads,  // incomplete multipart uploads, for remove_abandoned_uploads
  count_,
};
std::string_view op_name(Op op);

struct Request {
  Op op = Op::get_object;
  std::string method;
  std::string key;  ///< S3 object key ("" for the bucket itself)
  sigv4::Pairs query{};
  sigv4::Pairs headers{};  ///< besides host/x-amz-*; all are signed
  std::string_view body{};
  bool repeatable = true;  ///< safe to send again after a failure
};

struct Response {
  int status = 0;
  Poco::Net::HTTPResponse head;
  std::string body;  ///< read only by call(), at most kMaxSmallBody bytes
};

/// The largest response body call() reads (errors, upload ids, listings).
inline constexpr std::size_t kMaxSmallBody = 1024 * 1024;

class S3Client;

/// A response body being streamed (GET). Gives its connection back to the
/// pool once read to the end, and closes it if dropped earlier.
class BodyStream {
 public:
  /// `length`: the Content-Length; without one the body runs to the end of
  /// the connection, which then cannot be reused.
  BodyStream(S3Client& client, ConnectionPool::Lease lease, std::istream& in,
             std::optional<std::uint64_t> length, std::string key);
  [[nodiscard]] std::uint64_t remaining() const { return remaining_; }
  std::size_t read(char* buffer, std::size_t capacity);

 private:
  S3Client& client_;
  ConnectionPool::Lease lease_;
  std::istream& in_;
  std::uint64_t remaining_;
  bool until_eof_;
  std::string key_;
};

class S3Client {
 public:
  S3Client(Settings settings, plugin::Host& host);

  [[nodiscard]] const Settings& settings() const { return settings_; }

  /// Sends `request` (with retries, up to `retries` or s3.retries) and reads
  /// the whole answer. Returns any HTTP answer, errors included, once it is
  /// final; throws a transient plugin::Error when no answer came.
  Response call(const Request& request, std::string_view key_for_logs, int retries = -1);

  /// Like call(), but on a 2xx answer the body is left to `stream`.
  struct Opened {
    Response response;
    std::unique_ptr<BodyStream> stream;  ///< set for 2xx answers only
  };
  Opened open(const Request& request, std::string_view key_for_logs);

  /// The S3 error an answer carries.
  [[nodiscard]] static S3ErrorInfo error_of(const Response& response);

  /// Logs a failed request (op, key, HTTP status, S3 error code, request id).
  void log_failure(Op op, std::string_view key, const S3ErrorInfo& info, int attempt) const;

  void count_read(std::size_t bytes) { bytes_read_.inc(static_cast<double>(bytes)); }
  void count_written(std::size_t bytes) { bytes_written_.inc(static_cast<double>(bytes)); }

 private:
  Opened perform(const Request& request, std::string_view key_for_logs, int retries, bool stream);
  std::string path_for(const std::string& key) const;
  /// Sends one request on `lease` and receives the answer's head.
  std::istream& exchange(ConnectionPool::Lease& lease, const Request& request,
                         Poco::Net::HTTPResponse& head);
  void backoff(int attempt) const;
  /// The SigV4 signing key for `scope`, derived once per date.
  std::array<unsigned char, 32> signing_key_for(const sigv4::Scope& scope);
  void count(Op op, int status);

  Settings settings_;
  plugin::Host& host_;
  ConnectionPool pool_;
  sigv4::Credentials credentials_;
  std::mutex key_mutex_;  // key_date_, signing_key_
  std::string key_date_;
  std::array<unsigned char, 32> signing_key_{};
  // [op][0: 2xx, 1: 3xx/4xx, 2: 5xx, 3: no answer]
  std::array<std::array<plugin::Counter*, 4>, static_cast<std::size_t>(Op::count_)> requests_{};
  std::array<plugin::Counter*, static_cast<std::size_t>(Op::count_)> retries_{};
  plugin::Counter& bytes_read_;
  plugin::Counter& bytes_written_;
};

}  // namespace eltrix::media_s3
