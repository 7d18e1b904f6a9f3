// The HTTP server: Poco::Net::HTTPServer with our router, Matrix errors, CORS,
// request IDs, body limits, access logs, metrics and graceful draining.
#pragma once

#include "http/router.h"
#include "metrics/registry.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace eltrix::http {

struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 8008;  ///< 0 picks a free port (see Server::port())
  /// Request threads: the size of the server's thread pool, i.e. how many
  /// requests (including long-polls) are served at once.
  std::size_t workers = 16;
  /// Accepted connections waiting for a free worker; beyond it, new connections
  /// are closed at once (counted in eltrix_http_connections_refused_total).
  std::size_t max_queued = 256;
  std::size_t max_body_bytes = 1 << 20;  ///< default request body limit
  std::chrono::seconds keep_alive_timeout{60};
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
  /// idle keep-alive connections close now. Returns without waiting.
  void stop_accepting();
  /// Waits until no request is in flight and every connection has finished its
  /// current request. True if that happened within `timeout`.
  bool drain(std::chrono::milliseconds timeout);
  [[nodiscard]] std::size_t in_flight() const;
  [[nodiscard]] bool draining() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace eltrix::http
