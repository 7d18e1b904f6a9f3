#include "s3_client.h"

#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/NetException.h>

#include <algorithm>
#include <limits>
#include <random>
#include <thread>

namespace eltrix::media_s3 {
namespace {

constexpr std::chrono::milliseconds kBackoffBase{100};
constexpr std::chrono::milliseconds kBackoffCap{5000};

constexpr std::array<std::string_view, static_cast<std::size_t>(Op::count_)> kOpNames = {
    "put_object",      "create_multipart", "upload_part",  "complete_multipart",
    "abort_multipart", "get_object",       "head_object",  "delete_object",
    "list_bucket",     "list_objects",     "list_uploads",
};

std::size_t status_class(int status) {
  if (status == 0) return 3;
  if (status < 300) return 0;
  if (status < 500) return 1;
  return 2;
}

// Reads a (small) body to its end; false when it was longer than kMaxSmallBody
// (the rest is left unread, so the connection cannot be reused).
bool read_small_body(std::istream& in, std::string& out) {
  std::array<char, 8192> buffer{};
  while (true) {
    in.read(buffer.data(), buffer.size());
    auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) break;
    if (out.size() + got > kMaxSmallBody) return false;
    out.append(buffer.data(), got);
  }
  return true;
}

}  // namespace

std::string_view op_name(Op op) {
  return kOpNames.at(static_cast<std::size_t>(op));
}

BodyStream::BodyStream(S3Client& client, ConnectionPool::Lease lease, std::istream& in,
                       std::optional<std::uint64_t> length, std::string key)
    : client_(client),
      lease_(std::move(lease)),
      in_(in),
      remaining_(length.value_or(std::numeric_limits<std::uint64_t>::max())),
      until_eof_(!length),
      key_(std::move(key)) {
  if (remaining_ == 0) lease_.release();
}

std::size_t BodyStream::read(char* buffer, std::size_t capacity) {
  if (remaining_ == 0 || capacity == 0) return 0;
  auto want = static_cast<std::streamsize>(std::min<std::uint64_t>(capacity, remaining_));
  std::streamsize got = 0;
  try {
    in_.read(buffer, want);
    got = in_.gcount();
  } catch (const std::exception& e) {
    lease_.discard();
    throw plugin::Error(plugin::ErrorKind::transient,
                        "media-store-s3: GET '" + key_ + "': the download broke off with " +
                            std::to_string(remaining_) + " bytes to go: " + e.what());
  }
  if (got <= 0 && until_eof_) {
    // No Content-Length: the body ended when the connection did.
    remaining_ = 0;
    lease_.discard();
    return 0;
  }
  if (got <= 0) {
    lease_.discard();
    throw plugin::Error(plugin::ErrorKind::transient,
                        "media-store-s3: GET '" + key_ + "': the connection closed with " +
                            std::to_string(remaining_) + " bytes to go");
  }
  if (!until_eof_) remaining_ -= static_cast<std::uint64_t>(got);
  client_.count_read(static_cast<std::size_t>(got));
  if (remaining_ == 0) lease_.release();
  return static_cast<std::size_t>(got);
}

S3Client::S3Client(Settings settings, plugin::Host& host)
    : settings_(std::move(settings)),
      host_(host),
      pool_(settings_, host),
      credentials_{settings_.access_key, settings_.secret_key},
      bytes_read_(host.counter("eltrix_media_s3_bytes_read_total", "Object bytes read from S3.")),
      bytes_written_(
          host.counter("eltrix_media_s3_bytes_written_total", "Object bytes sent to S3.")) {
  static constexpr std::array<std::string_view, 4> kClasses = {"2xx", "4xx", "5xx", "error"};
  for (std::size_t op = 0; op < requests_.size(); ++op) {
    for (std::size_t c = 0; c < kClasses.size(); ++c) {
      requests_[op][c] = &host.counter("eltrix_media_s3_requests_total",
                                       "Requests to S3 by operation and outcome (status class, "
                                       "or error: no answer).",
                                       {{"op", kOpNames[op]}, {"status", kClasses[c]}});
    }
    retries_[op] = &host.counter("eltrix_media_s3_retries_total",
                                 "Requests to S3 sent again after a failure, by operation.",
                                 {{"op", kOpNames[op]}});
  }
}

void S3Client::count(Op op, int status) {
  requests_[static_cast<std::size_t>(op)][status_class(status)]->inc();
}

std::string S3Client::path_for(const std::string& key) const {
  if (settings_.endpoint.path_style) {
    return key.empty() ? "/" + settings_.bucket : "/" + settings_.bucket + "/" + key;
  }
  return "/" + key;
}

S3ErrorInfo S3Client::error_of(const Response& response) {
  std::string request_id = response.head.get("x-amz-request-id", "");
  auto info = parse_error(response.status, response.body, request_id);
  if (info.code.empty() && info.message.empty()) info.message = response.head.getReason();
  return info;
}

void S3Client::log_failure(Op op, std::string_view key, const S3ErrorInfo& info,
                           int attempt) const {
  std::string status = std::to_string(info.status);
  std::string attempts = std::to_string(attempt + 1);
  host_.warn("S3 request failed", {{"op", op_name(op)},
                                   {"key", key},
                                   {"bucket", settings_.bucket},
                                   {"http_status", status},
                                   {"s3_error", info.code.empty() ? "-" : info.code},
                                   {"message", info.message},
                                   {"request_id", info.request_id},
                                   {"attempt", attempts}});
}

std::istream& S3Client::exchange(ConnectionPool::Lease& lease, const Request& request,
                                 Poco::Net::HTTPResponse& head) {
  const std::string path = path_for(request.key);
  std::string target = sigv4::encode_path(path);
  if (!request.query.empty()) target += "?" + sigv4::canonical_query(request.query);

  const std::string date = sigv4::amz_date(host_.wall_now());
  sigv4::Request to_sign{.method = request.method,
                         .path = path,
                         .query = request.query,
                         .headers = {{"host", settings_.endpoint.host_header},
                                     {"x-amz-date", date},
                                     {"x-amz-content-sha256", ""}},
                         .payload_hash = request.body.empty()
                                             ? std::string(sigv4::kEmptyPayloadHash)
                                             : sigv4::sha256_hex(request.body)};
  to_sign.headers[2].second = to_sign.payload_hash;
  for (const auto& header : request.headers) to_sign.headers.push_back(header);
  const sigv4::Scope scope{date.substr(0, 8), settings_.region, "s3"};
  auto signed_request =
      sigv4::sign_with_key(to_sign, credentials_.access_key, signing_key_for(scope), date, scope);

  Poco::Net::HTTPRequest http(request.method, target, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [name, value] : to_sign.headers) http.set(name, value);
  http.set("Authorization", signed_request.authorization);
  if (request.method == "PUT" || request.method == "POST" || !request.body.empty()) {
    http.setContentLength64(static_cast<Poco::Int64>(request.body.size()));
  }
  http.setKeepAlive(true);
  std::ostream& out = lease.session().sendRequest(http);
  if (!request.body.empty()) {
    out.write(request.body.data(), static_cast<std::streamsize>(request.body.size()));
    out.flush();
    if (!out) throw Poco::Net::NetException("sending the request body failed");
  }
  std::istream& in = lease.session().receiveResponse(head);
  in.exceptions(std::ios::badbit);
  return in;
}

std::array<unsigned char, 32> S3Client::signing_key_for(const sigv4::Scope& scope) {
  std::lock_guard lock(key_mutex_);
  if (key_date_ != scope.date) {
    signing_key_ = sigv4::signing_key(credentials_.secret_key, scope);
    key_date_ = scope.date;
  }
  return signing_key_;
}

void S3Client::backoff(int attempt) const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  auto ceiling = std::min<std::int64_t>(
      kBackoffCap.count(), kBackoffBase.count() * (std::int64_t{1} << std::min(attempt, 16)));
  std::uniform_int_distribution<std::int64_t> jitter(0, ceiling);
  // Full jitter: a random wait in [0, ceiling] keeps retrying nodes from
  // hitting a recovering S3 in step. The caller's thread waits; requests to S3
  // are synchronous anyway.
  std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng)));
}

S3Client::Opened S3Client::open(const Request& request, std::string_view key_for_logs) {
  return perform(request, key_for_logs, -1, true);
}

Response S3Client::call(const Request& request, std::string_view key_for_logs, int retries) {
  return std::move(perform(request, key_for_logs, retries, false).response);
}

S3Client::Opened S3Client::perform(const Request& request, std::string_view key_for_logs,
                                   int retries, bool stream) {
  if (retries < 0) retries = settings_.retries;
  const auto op_index = static_cast<std::size_t>(request.op);
  bool stale_retry_used = false;
  const auto wait =
      std::chrono::duration_cast<std::chrono::milliseconds>(settings_.request_timeout);
  for (int attempt = 0;; ++attempt) {
    ConnectionPool::Lease lease = pool_.acquire(wait);
    S3ErrorInfo failure;
    bool stale = false;
    try {
      Opened opened;
      std::istream& in = exchange(lease, request, opened.response.head);
      opened.response.status = static_cast<int>(opened.response.head.getStatus());
      const int status = opened.response.status;
      count(request.op, status);
      const bool success = status >= 200 && status < 300;
      if (stream && success) {
        std::optional<std::uint64_t> length;
        if (opened.response.head.hasContentLength()) {
          length = static_cast<std::uint64_t>(opened.response.head.getContentLength64());
        }
        opened.stream = std::make_unique<BodyStream>(*this, std::move(lease), in, length,
                                                     std::string(key_for_logs));
        return opened;
      }
      if (read_small_body(in, opened.response.body)) {
        lease.release();
      } else {
        lease.discard();
      }
      if (success) return opened;
      failure = error_of(opened.response);
      if (!failure.retryable() || !request.repeatable || attempt >= retries) return opened;
    } catch (const plugin::Error&) {
      throw;
    } catch (const Poco::Net::NoMessageException& e) {
      // The server closed the connection without answering: usually an idle
      // keep-alive connection it had already dropped.
      stale = lease.reused();
      failure = {.status = 0, .code = {}, .message = e.displayText(), .request_id = {}};
    } catch (const Poco::Exception& e) {
      stale = lease.reused() && request.repeatable;
      failure = {.status = 0, .code = {}, .message = e.displayText(), .request_id = {}};
    } catch (const std::exception& e) {
      failure = {.status = 0, .code = {}, .message = e.what(), .request_id = {}};
    }
    if (failure.status == 0) {
      lease.discard();
      count(request.op, 0);
      if (stale && !stale_retry_used) {
        // One free retry on a fresh connection; not counted as a failure.
        stale_retry_used = true;
        --attempt;
        continue;
      }
      if (!request.repeatable || attempt >= retries) {
        log_failure(request.op, key_for_logs, failure, attempt);
        throw to_plugin_error(failure, std::string(op_name(request.op)), key_for_logs);
      }
    }
    log_failure(request.op, key_for_logs, failure, attempt);
    retries_[op_index]->inc();
    backoff(attempt);
  }
}

}  // namespace eltrix::media_s3
