// The HTTP server's parking lot for deferred responses (internal to
// http::Server; handlers use http::Deferred).
//
// One thread runs an epoll loop over every parked socket:
//   waiting  - the Deferred has not completed; only a hang-up is watched for,
//              and it cancels the Deferred;
//   writing  - the response is being written without blocking (EPOLLOUT);
//   idle     - a connection waiting for its next request head: a new one
//              from the acceptor, a keep-alive one after any response (a
//              worker gives it back), or after a deferred response. The head
//              is watched with MSG_PEEK, so it stays in the kernel for Poco
//              to read; once the whole head (and a small body) is there, the
//              connection is handed to the server's dispatcher and a pool
//              thread serves it as usual. A head not complete within
//              header_timeout, or larger than max_head_bytes, closes the
//              connection: a slow client costs a socket, never a thread;
//   closing  - the response asked to close: our side is shut down and the rest
//              of the client's data is read and dropped so the close does not
//              reset the connection before the client read the response.
// Nothing in the loop blocks: sockets are non-blocking while parked, and user
// code (Deferred::start, the response formatting) runs on other threads. Only
// Deferred::cancel runs on the loop thread, which is why it must be quick.
#pragma once

#include "http/deferred.h"
#include "http/router.h"

#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace eltrix::metrics {
class Counter;
class Gauge;
}  // namespace eltrix::metrics

namespace eltrix::http::detail {

/// How a parked request is turned into bytes; implemented by the server.
class ParkedRequest {
 public:
  virtual ~ParkedRequest() = default;
  /// Called once, on the thread that called complete(): records metrics and
  /// the access log and returns the whole response (status line, headers and,
  /// unless HEAD, the body). `keep_alive` is what the Connection header says.
  virtual std::string finish(Response response, bool keep_alive) = 0;
  /// Instead of finish(), for a response that must be sent from a worker
  /// thread (Response::streamed, Response::on_worker): builds it if needed,
  /// records it and writes it to the blocking `socket`. False when the
  /// connection cannot serve another request.
  virtual bool send(Poco::Net::StreamSocket& socket, Response response, bool keep_alive) = 0;
};

/// A parked request whose response a worker thread sends (see
/// ParkedRequest::send): travels with its socket to the dispatcher.
struct HandOff {
  std::unique_ptr<ParkedRequest> request;
  Response response;
  bool keep_alive = false;
};

/// Waits up to `wait` for the next request on a keep-alive connection a
/// worker just answered, without consuming it: true once its whole head
/// (and a small body) is there, as the parking lot would hand it over.
/// False for anything else (nothing yet, a partial or too large head, a
/// closed connection): the caller parks the connection, which deals with
/// it. Lets a worker serve a client that sends its next request at once
/// (a bot, a benchmark, a pipeline of calls) without two thread hand-offs.
bool next_request_ready(const Poco::Net::StreamSocket& socket, std::chrono::microseconds wait,
                        std::size_t max_head_bytes);

/// What the server does with a keep-alive connection whose next request arrived.
enum class HandBack {
  taken,    ///< queued for a worker thread (with its HandOff, if any)
  later,    ///< the queue is full: try again shortly (a new connection gets 503)
  refused,  ///< draining or stopped: close the connection
};

struct ParkingOptions {
  std::size_t max_parked = 10000;
  /// An idle connection after a deferred response is closed after this long.
  std::chrono::milliseconds keep_alive_timeout{15000};
  /// A response not fully accepted by the client within this long is abandoned.
  std::chrono::milliseconds send_timeout{30000};
  /// The whole request head (and a small body, see kSmallBodyBytes in
  /// parked.cpp) must arrive within this long of its first byte (of the
  /// connection, for a new one).
  std::chrono::milliseconds header_timeout{10000};
  /// Largest request head (request line and headers) accepted; larger ones
  /// get 431 and the connection closes.
  std::size_t max_head_bytes = 32 * 1024;
  /// Optional: connections waiting for a request head; heads that timed out;
  /// heads refused as too large.
  metrics::Gauge* reading_head_gauge = nullptr;
  metrics::Counter* head_timeouts = nullptr;
  metrics::Counter* heads_too_large = nullptr;
  /// New connections answered 503 because the dispatcher's queue was full.
  metrics::Counter* refused = nullptr;
};

class ParkingLot {
 public:
  /// `hand_back` runs on the loop thread and must not block; `on_released`
  /// runs (without locks held) whenever parked() went down.
  /// `hand_back` gets the connection's HandOff (null for a new request).
  ParkingLot(
      ParkingOptions options,
      std::function<HandBack(const Poco::Net::StreamSocket&, std::shared_ptr<HandOff>)> hand_back,
      std::function<void()> on_released, metrics::Gauge& parked_gauge);
  /// shutdown().
  ~ParkingLot();
  ParkingLot(const ParkingLot&) = delete;
  ParkingLot& operator=(const ParkingLot&) = delete;

  /// Counts one more parked request if fewer than max_parked are parked (and
  /// the lot is not shut down). Each true must be followed by park() or unreserve().
  bool reserve();
  void unreserve();
  /// Takes a reserved place: watches `socket`, then calls deferred->start() on
  /// this thread. `keep_alive`: the connection may serve further requests.
  void park(const Poco::Net::StreamSocket& socket, std::shared_ptr<Deferred> deferred,
            std::unique_ptr<ParkedRequest> request, bool keep_alive);
  /// Watches a connection that holds no request yet until its next request
  /// head has arrived, then hands it back (not counted as parked). `fresh`:
  /// just accepted (header_timeout runs from now), else a keep-alive
  /// connection (keep_alive_timeout until its first byte).
  void watch_head(const Poco::Net::StreamSocket& socket, bool fresh);
  /// Connections waiting for their request head now.
  [[nodiscard]] std::size_t reading_head() const;
  /// Cancels every parked request (now and any parked later), answers with
  /// Connection: close from now on, and closes idle connections. Returns at once.
  void begin_drain();
  /// Requests reserved, waiting, or with a response not yet fully written.
  [[nodiscard]] std::size_t parked() const;
  [[nodiscard]] std::size_t max_parked() const { return options_.max_parked; }
  /// Stops the loop and closes every socket it holds; later complete() calls
  /// are ignored and later park() calls drop the connection. Waits for
  /// complete() calls in progress. Idempotent.
  void shutdown();

  struct Shared;  // reachable from complete() through a weak_ptr

 private:
  class Loop;
  ParkingOptions options_;
  std::shared_ptr<Shared> shared_;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
};

}  // namespace eltrix::http::detail
