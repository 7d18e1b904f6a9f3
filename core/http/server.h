// The HTTP server: Poco's HTTP connection handling on a thread pool, with our
// router, Matrix errors, CORS, request IDs, body limits, access logs, metrics,
// graceful draining, and deferred responses (http/deferred.h) that park a
// long-poll without holding a thread. Connections between requests (new ones
// and keep-alive ones) wait in the parking lot's poller too, until a whole
// request head has arrived: a worker thread only ever serves a request that
// is there (docs/decisions.md, D10 and the slowloris entry).
#pragma once

#include "http/router.h"
#include "metrics/registry.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace eltrix::http {

struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 8008;  ///< 0 picks a free port (see Server::port())
  /// Request threads: the size of the server's thread pool, i.e. how many
  /// requests are being handled at once. Parked requests (deferred
  /// responses, such as sync long-polls) hold no thread and do not count.
  std::size_t workers = 16;
  /// Accepted connections waiting for a free worker; beyond it, new connections
  /// are closed at once (counted in eltrix_http_connections_refused_total).
  std::size_t max_queued = 256;
  std::size_t max_body_bytes = 1 << 20;  ///< default request body limit
  std::chrono::seconds keep_alive_timeout{60};
  /// Parked requests (Response::deferred) waiting at once, each holding one
  /// connection and no thread. Beyond it a deferred response is answered at
  /// once with 503 M_LIMIT_EXCEEDED; handlers should not get there, because
  /// the notifier's max_waiting (kept at or below this) answers them first.
  std::size_t max_parked = 10000;
  /// A deferred response the client stops reading for this long is abandoned
  /// and its connection closed.
  std::chrono::seconds send_timeout{30};
  /// A connection's request head (request line and headers, and a body of
  /// up to 16 KiB) must arrive within this long of its first byte. Heads are
  /// read without a thread (parked.h), so slow clients hold sockets only.
  std::chrono::milliseconds header_timeout{10000};
  /// Largest request head; larger ones get 431.
  std::size_t max_head_bytes = 32 * 1024;
  /// After answering on a keep-alive connection, a worker waits this long
  /// for the client's next request and serves it itself, while another
  /// worker is free and none is queued for (two thread hand-offs fewer for
  /// clients that send back to back); else the connection goes back to the
  /// parking lot at once. 0: never wait.
  std::chrono::microseconds next_request_wait{300};
  /// Open connections per client address (IPv6: per /64); beyond it new
  /// connections from that address are closed at once. 0: no limit.
  std::size_t max_connections_per_address = 0;
  /// Addresses or blocks ("10.0.0.0/8") not limited by
  /// max_connections_per_address: load balancers and reverse proxies.
  std::vector<std::string> connection_limit_exempt;
};

class Server {
 public:
  /// Copies the router; registers the eltrix_http_* metrics in `metrics`,
  /// which must outlive the server.
  Server(ServerOptions options, const Router& router, metrics::Registry& metrics);
  /// Stops accepting, closes idle connections and waits for requests in flight.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and starts listening. Throws Poco::Net exceptions if binding fails.
  void start();
  /// The bound port once started (tests use port 0), else the configured one.
  [[nodiscard]] std::uint16_t port() const;
  /// Closes the listening socket (new connections are refused). Requests in
  /// flight continue; every connection closes after its current request, and
  /// idle keep-alive connections close now. Parked requests are cancelled
  /// (Deferred::cancel), and those parked later too, so that they answer soon
  /// with Connection: close. Returns without waiting.
  void stop_accepting();
  /// Waits until no request is in flight, every connection has finished its
  /// current request and every parked request has been answered (its response
  /// written or its client gone). True if that happened within `timeout`.
  bool drain(std::chrono::milliseconds timeout);
  /// Requests being handled on a worker thread (parked ones are not).
  [[nodiscard]] std::size_t in_flight() const;
  [[nodiscard]] bool draining() const;
  /// Requests parked by Response::deferred and not yet answered.
  [[nodiscard]] std::size_t parked() const;
  /// Connections waiting for a request head (new or keep-alive).
  [[nodiscard]] std::size_t reading_head() const;
  /// Open client connections (every state).
  [[nodiscard]] std::size_t connections() const;
  /// False when a deferred response would be refused now (max_parked reached,
  /// or draining); a handler may then answer at once instead.
  [[nodiscard]] bool can_park() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace eltrix::http
