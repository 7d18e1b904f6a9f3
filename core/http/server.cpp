#include "http/server.h"

#include "http/address_limit.h"
#include "http/body.h"
#include "http/error_mapping.h"
#include "http/parked.h"
#include "http/request_id.h"

#include "build_info.h"
#include "log/log.h"

#include <Poco/Buffer.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Net/TCPServerDispatcher.h>
#include <Poco/ThreadPool.h>
#include <Poco/Timestamp.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <system_error>
#include <thread>

namespace eltrix::http {
namespace {

constexpr std::string_view kRequestsHelp =
    "HTTP requests served, by method, route pattern and status.";
constexpr std::string_view kDurationHelp =
    "Time from reading the request line to sending the response, in seconds.";
constexpr std::string_view kInFlightHelp = "HTTP requests being handled right now.";
constexpr std::string_view kQueuedHelp = "Accepted connections waiting for a worker thread.";
constexpr std::string_view kQueueLimitHelp =
    "Maximum number of connections waiting for a worker thread (ServerOptions::max_queued).";
constexpr std::string_view kWorkersHelp = "Configured number of HTTP worker threads.";
constexpr std::string_view kRefusedHelp =
    "Connections closed without service because the queue was full.";
constexpr std::string_view kBodyRejectedHelp = "Request bodies rejected, by reason.";
constexpr std::string_view kBodyLimitHelp = "Default maximum request body size in bytes.";
constexpr std::string_view kParkedHelp =
    "Requests parked without a thread (deferred responses such as sync long-polls), until "
    "their response is written.";
constexpr std::string_view kParkedLimitHelp =
    "Maximum number of parked requests (ServerOptions::max_parked).";
constexpr std::string_view kReadingHeadHelp =
    "Connections waiting, without a thread, for their next request head (new or keep-alive).";
constexpr std::string_view kHeadTimeoutsHelp =
    "Connections closed because their request head did not arrive within http.header_timeout.";
constexpr std::string_view kHeadTooLargeHelp =
    "Request heads refused (431) for exceeding the head size limit.";
constexpr std::string_view kOpenHelp = "Open client connections, in every state.";
constexpr std::string_view kPerAddressRefusedHelp =
    "Connections closed at once because their client address had "
    "http.max_connections_per_address open already.";

/// Longest a rejected body is read (and thrown away) so the client sees the
/// response instead of a connection reset.
constexpr std::size_t kDiscardBeforeResponse = 64 * 1024;
constexpr std::size_t kLingerBytes = 256 * 1024;
/// Buffer for writing a streamed response body (Response::streamed).
constexpr std::size_t kStreamBufferSize = 64 * 1024;

constexpr std::string_view kKnownMethods[] = {"GET",    "HEAD",    "POST", "PUT",
                                              "DELETE", "OPTIONS", "PATCH"};

std::string method_label(std::string_view method) {
  for (auto m : kKnownMethods) {
    if (m == method) return std::string(m);
  }
  return "other";
}

Response matrix_error(int status, std::string errcode, const std::string& message) {
  return Response::error(MatrixError(status, std::move(errcode), message));
}

/// Per (method, route) metric objects, resolved once. Status counters are
/// added to a lock-free list the first time a status is seen.
class RouteMetrics {
 public:
  RouteMetrics(metrics::Registry& registry, std::string method, std::string route)
      : registry_(registry), method_(std::move(method)), route_(std::move(route)) {
    duration_ = &registry_.histogram("eltrix_http_request_duration_seconds", kDurationHelp,
                                     {{"method", method_}, {"route", route_}});
  }
  ~RouteMetrics() {
    Node* n = head_.load();
    while (n != nullptr) {
      Node* next = n->next;
      delete n;
      n = next;
    }
  }
  RouteMetrics(const RouteMetrics&) = delete;
  RouteMetrics& operator=(const RouteMetrics&) = delete;

  void record(int status, double seconds) {
    duration_->observe(seconds);
    status_counter(status).inc();
  }

 private:
  struct Node {
    int status;
    metrics::Counter* counter;
    Node* next;
  };

  metrics::Counter& status_counter(int status) {
    Node* head = head_.load(std::memory_order_acquire);
    for (Node* n = head; n != nullptr; n = n->next) {
      if (n->status == status) return *n->counter;
    }
    // First time for this status: the registry returns the same counter even if
    // two threads race here, so a duplicate node is harmless.
    auto& counter = registry_.counter(
        "eltrix_http_requests_total", kRequestsHelp,
        {{"method", method_}, {"route", route_}, {"status", std::to_string(status)}});
    auto* node = new Node{status, &counter, head};
    while (!head_.compare_exchange_weak(node->next, node, std::memory_order_release,
                                        std::memory_order_acquire)) {
    }
    return counter;
  }

  metrics::Registry& registry_;
  std::string method_;
  std::string route_;
  metrics::Histogram* duration_;
  std::atomic<Node*> head_{nullptr};
};

/// What the metrics collector needs; outlives the server if the registry does.
struct CollectorState {
  std::mutex mutex;
  Poco::Net::TCPServerDispatcher* dispatcher = nullptr;
  metrics::Gauge* queued = nullptr;
  metrics::Counter* refused = nullptr;
  int last_refused = 0;
};

/// The headers every response carries, on the normal and the deferred path.
void set_common_headers(Poco::Net::HTTPResponse& response, const Response& out,
                        const std::string& request_id) {
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(out.status));
  const bool no_content = out.status == 204 || out.status == 304;
  if (!no_content && !out.content_type.empty()) response.setContentType(out.content_type);
  for (const auto& [k, v] : out.headers) response.set(k, v);
  response.set("Access-Control-Allow-Origin", "*");
  response.set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS");
  response.set("Access-Control-Allow-Headers", "X-Requested-With, Content-Type, Authorization");
  response.set("X-Request-ID", request_id);
  response.setContentLength64(no_content ? 0 : static_cast<Poco::Int64>(out.body_size()));
}

/// A request the handler parked, on its way from the worker thread (which
/// detached the socket) to the parking lot. Filled by Impl::park() and
/// consumed by Impl::serve() once Poco's connection loop has returned.
struct PendingPark {
  Poco::Net::StreamSocket socket;
  std::shared_ptr<Deferred> deferred;
  std::unique_ptr<detail::ParkedRequest> request;
  bool keep_alive = false;
};

/// Poco's HTTP connection (the request loop of HTTPServer), with the server's
/// stop made explicit. HTTPServer::stopAll() fires an event that every live
/// connection hears: it waits for the current request and then shuts down its
/// socket. A connection whose request was just parked still holds a copy of
/// that socket, and the shutdown would cut the parked client off; so a
/// parking handler makes the connection forget its copy, and the server stops
/// the connections itself (Impl::stop_connections) instead of the event.
class HttpConnection final : public Poco::Net::HTTPServerConnection {
 public:
  HttpConnection(const Poco::Net::StreamSocket& socket,
                 const Poco::Net::HTTPServerParams::Ptr& params,
                 const Poco::Net::HTTPRequestHandlerFactory::Ptr& factory)
      : Poco::Net::HTTPServerConnection(socket, params, factory) {}

  /// abort_current: shut the socket down now. Otherwise Poco takes the
  /// connection's own lock, i.e. waits for the request in progress, then
  /// shuts it down (idle keep-alive connections at once).
  void stop(bool abort_current) {
    if (abort_current) {
      std::lock_guard lock(socket_mutex_);
      onServerStopped(true);
    } else {
      // Serialised with forget_socket() by Poco's connection lock, which the
      // handler holds while it runs; taking socket_mutex_ here could deadlock.
      onServerStopped(false);
    }
  }
  /// Called by a handler parking the request (so under Poco's connection lock).
  void forget_socket() {
    std::lock_guard lock(socket_mutex_);
    socket() = Poco::Net::StreamSocket();
  }

  /// Set by Impl::park() on this connection's thread.
  std::optional<PendingPark> pending;
  /// Set by Impl::handle() after a keep-alive response: the connection goes
  /// back to the parking lot to wait for its next request without a thread.
  std::optional<Poco::Net::StreamSocket> idle;
  /// A request is being handled (Impl::handle() runs).
  std::atomic<bool> busy{false};

 private:
  std::mutex socket_mutex_;
};

/// The connection the current pool thread serves (null outside one).
thread_local HttpConnection* t_connection = nullptr;

/// Whether the client behind `request` has closed its side of the connection.
/// Poco 1.11's chunked reader reports a connection cut mid-chunk as a normal
/// end of body; a hang-up is how such a cut shows. A client that is still
/// there after its last chunk is waiting for the answer.
bool client_hung_up(Poco::Net::HTTPServerRequest& request) {
  auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request);
  if (impl == nullptr) return false;
  const int fd = impl->socket().impl()->sockfd();
  if (fd < 0) return true;
  pollfd p{.fd = fd, .events = POLLIN | POLLRDHUP, .revents = 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if ((p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) return true;
  char byte = 0;
  return ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, const Router& router, metrics::Registry& registry);
  ~Impl();

  void start();
  void stop_accepting();
  bool drain(std::chrono::milliseconds timeout);
  void handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);
  /// Serves one connection on a pool thread, then parks it if its last
  /// request was deferred.
  void serve(const Poco::Net::StreamSocket& first);
  /// One request (or a parked request's response) on `socket`; true when
  /// the client's next request is already there, to be served at once on
  /// this thread (socket then names the connection for it).
  bool serve_one(Poco::Net::StreamSocket& socket);
  /// Records the request in metrics and the access log.
  void account(RouteMetrics& metrics, const std::string& method, std::string_view path,
               const std::string& route_label, const std::string& request_id, int status,
               std::size_t bytes, std::chrono::steady_clock::time_point started,
               bool record_metrics);
  /// Logs a domain error that is the server's side (transient or internal)
  /// with its full message, which the client does not read.
  void log_domain_error(const errors::Error& error, const std::string& request_id,
                        const std::string& route_label) const {
    if (error.kind() == errors::Kind::transient) {
      logger_.warn("request failed; the client may retry",
                   {{"request_id", request_id}, {"route", route_label}, {"error", error.what()}});
    } else if (error.kind() == errors::Kind::internal) {
      logger_.error("request failed",
                    {{"request_id", request_id}, {"route", route_label}, {"error", error.what()}});
    }
  }

  ServerOptions options_;
  Router router_;
  metrics::Registry& registry_;
  log::Logger logger_{"http"};

  std::vector<std::unique_ptr<RouteMetrics>> route_metrics_;  // by route index
  std::map<std::string, std::unique_ptr<RouteMetrics>> unmatched_metrics_;
  std::mutex extra_metrics_mutex_;  // HEAD served by GET routes, OPTIONS
  std::map<std::pair<std::string, std::string>, std::unique_ptr<RouteMetrics>> extra_metrics_;

  metrics::Gauge* in_flight_gauge_;
  metrics::Counter* rejected_too_large_;
  metrics::Counter* rejected_not_json_;
  metrics::Counter* rejected_bad_json_;
  std::shared_ptr<CollectorState> collector_;

  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::size_t> waiting_for_next_{0};  // workers in serve_one's wait
  std::atomic<bool> draining_{false};
  std::mutex state_mutex_;
  std::condition_variable state_cv_;
  bool stopper_done_ = false;

  std::unique_ptr<Poco::ThreadPool> pool_;
  Poco::Net::ServerSocket socket_;
  bool started_ = false;
  std::uint16_t bound_port_ = 0;
  std::thread stopper_;

  // Poco's HTTPServer is a TCPServer with an HTTPServerConnectionFactory; we
  // assemble the same parts ourselves so that one dispatcher (one queue, one
  // thread pool) serves both new connections and keep-alive connections
  // coming back from the parking lot (docs/decisions.md, D10).
  Poco::Net::HTTPRequestHandlerFactory::Ptr handler_factory_;
  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::TCPServerDispatcher* dispatcher_ = nullptr;  // reference-counted; released in ~Impl
  std::mutex dispatch_mutex_;  // enqueue() vs stop(): nothing is queued once stopping
  bool dispatch_open_ = false;
  std::thread acceptor_;
  int acceptor_wake_fd_ = -1;
  // Connections being served, for stop_connections().
  std::mutex live_mutex_;
  std::map<HttpConnection*, std::shared_ptr<HttpConnection>> live_;
  int live_stop_ = 0;  // 0: running; 1: stop after the current request; 2: abort

  metrics::Gauge* parked_gauge_;
  std::unique_ptr<detail::ParkingLot> lot_;
  std::shared_ptr<AddressLimiter> limiter_;
  metrics::Counter* per_address_refused_;
  // Parked requests whose response a worker sends, by their socket, between
  // hand_back() and serve().
  std::mutex handoffs_mutex_;
  std::map<const Poco::Net::SocketImpl*, std::shared_ptr<detail::HandOff>> handoffs_;

 private:
  class Parked;
  RouteMetrics& extra_metrics(const std::string& method, const std::string& route);
  Response dispatch(Poco::Net::HTTPServerRequest& request, const std::string& request_id,
                    std::string_view raw_path, std::string_view raw_query, std::string& route_label,
                    RouteMetrics*& metrics, bool& has_body, bool& close_connection, bool& linger);
  void send(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
            const Response& out, const std::string& request_id, bool close_connection);
  /// Writes a Response::streamed body; on a failure midway, shuts the socket
  /// down and throws.
  void send_streamed(Poco::Net::HTTPServerRequest& request, std::ostream& stream,
                     const Response& out, const std::string& request_id);
  /// Detaches the connection for a deferred response. False (with `out`
  /// replaced by an error) when it cannot be parked.
  bool park(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
            Response& out, const std::string& request_id, std::string_view raw_path,
            const std::string& route_label, RouteMetrics& metrics, bool close_connection,
            std::chrono::steady_clock::time_point started);
  void accept_loop();
  detail::HandBack hand_back(const Poco::Net::StreamSocket& socket,
                             std::shared_ptr<detail::HandOff> job);
  /// Sends a parked request's response on this worker thread (HandOff).
  void serve_handoff(Poco::Net::StreamSocket socket, const std::shared_ptr<detail::HandOff>& job);
  /// What HTTPServer::stopAll() does to live connections (see HttpConnection);
  /// graceful: waits for each one's current request.
  void stop_connections(bool abort_current);
};

namespace {

class RequestHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit RequestHandler(Server::Impl& impl) : impl_(impl) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    impl_.handle(request, response);
  }

 private:
  Server::Impl& impl_;
};

class HandlerFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit HandlerFactory(Server::Impl& impl) : impl_(impl) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new RequestHandler(impl_);
  }

 private:
  Server::Impl& impl_;
};

/// One connection on a pool thread: Impl::serve() runs Poco's HTTP request
/// loop, then parks the socket if the last request was deferred.
class Connection final : public Poco::Net::TCPServerConnection {
 public:
  Connection(const Poco::Net::StreamSocket& socket, Server::Impl& impl)
      : Poco::Net::TCPServerConnection(socket), impl_(impl) {}
  void run() override { impl_.serve(socket()); }

 private:
  Server::Impl& impl_;
};

class ConnectionFactory final : public Poco::Net::TCPServerConnectionFactory {
 public:
  explicit ConnectionFactory(Server::Impl& impl) : impl_(impl) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new Connection(socket, impl_);
  }

 private:
  Server::Impl& impl_;
};

}  // namespace

/// A parked request's identity, turned into response bytes when it completes.
class Server::Impl::Parked final : public detail::ParkedRequest {
 public:
  Parked(Impl& impl, RouteMetrics& metrics, std::string method, std::string path,
         std::string route_label, std::string request_id, std::string version, bool head,
         std::chrono::steady_clock::time_point started)
      : impl_(impl),
        metrics_(metrics),
        method_(std::move(method)),
        path_(std::move(path)),
        route_label_(std::move(route_label)),
        request_id_(std::move(request_id)),
        version_(std::move(version)),
        head_(head),
        started_(started) {}

  std::string finish(Response out, bool keep_alive) override {
    if (out.deferral || out.streamed_body || out.continuation) {
      // A Deferred must complete with a final response, not another deferral
      // (streamed and on_worker responses go through send()).
      impl_.logger_.error("a Deferred completed with a deferred response",
                          {{"request_id", request_id_}, {"route", route_label_}});
      out = matrix_error(500, "M_UNKNOWN", "Internal server error");
    }
    impl_.account(metrics_, method_, path_, route_label_, request_id_, out.status, out.body.size(),
                  started_, true);
    std::string bytes = head_bytes(out, keep_alive);
    const bool no_content = out.status == 204 || out.status == 304;
    if (!head_ && !no_content) bytes += out.body;
    return bytes;
  }

  bool send(Poco::Net::StreamSocket& socket, Response out, bool keep_alive) override {
    if (out.continuation) {
      const auto build = std::move(out.continuation);
      try {
        out = build();
      } catch (const MatrixError& e) {
        out = Response::error(e);
      } catch (const errors::Error& e) {
        impl_.log_domain_error(e, request_id_, route_label_);
        out = Response::error(e);
      } catch (const std::exception& e) {
        impl_.logger_.error(
            "request failed",
            {{"request_id", request_id_}, {"route", route_label_}, {"error", e.what()}});
        out = matrix_error(500, "M_UNKNOWN", "Internal server error");
      }
    }
    if (out.deferral || out.continuation) {
      impl_.logger_.error("a deferred response completed with another deferral",
                          {{"request_id", request_id_}, {"route", route_label_}});
      out = matrix_error(500, "M_UNKNOWN", "Internal server error");
    }
    impl_.account(metrics_, method_, path_, route_label_, request_id_, out.status,
                  static_cast<std::size_t>(out.body_size()), started_, true);
    const bool no_content = out.status == 204 || out.status == 304;
    try {
      send_all(socket, head_bytes(out, keep_alive));
      if (head_ || no_content) return true;
      if (!out.streamed_body) {
        send_all(socket, out.body);
        return true;
      }
      // One fixed buffer, as on the normal path (Impl::send_streamed).
      std::vector<char> buffer(kStreamBufferSize);
      std::uint64_t left = out.streamed_length;
      while (left > 0) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer.size()));
        const std::size_t got = std::min(out.streamed_body->read(buffer.data(), want), want);
        if (got == 0)
          throw std::runtime_error("the body ended " + std::to_string(left) + " bytes early");
        send_all(socket, std::string_view(buffer.data(), got));
        left -= got;
      }
      return true;
    } catch (const std::exception& e) {
      // The status line may be out already: cutting the connection is the
      // only honest signal left.
      impl_.logger_.debug("could not send a deferred response",
                          {{"request_id", request_id_}, {"error", e.what()}});
      return false;
    }
  }

 private:
  /// The same status line and headers as the normal path, which Poco writes
  /// from an HTTPServerResponse; here an HTTPResponse writes them to a string.
  std::string head_bytes(const Response& out, bool keep_alive) const {
    Poco::Net::HTTPResponse response;
    response.setVersion(version_);
    response.setDate(Poco::Timestamp());
    const std::string& server = impl_.params_->getSoftwareVersion();
    if (!server.empty()) response.set("Server", server);
    set_common_headers(response, out, request_id_);
    response.setKeepAlive(keep_alive);
    std::ostringstream head;
    response.write(head);
    return std::move(head).str();
  }

  static void send_all(Poco::Net::StreamSocket& socket, std::string_view bytes) {
    while (!bytes.empty()) {
      const int n = socket.sendBytes(
          bytes.data(), static_cast<int>(std::min<std::size_t>(bytes.size(), 1U << 30)));
      if (n <= 0) throw std::runtime_error("the connection closed");
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

 private:
  Impl& impl_;
  RouteMetrics& metrics_;
  std::string method_;
  std::string path_;
  std::string route_label_;
  std::string request_id_;
  std::string version_;
  bool head_;
  std::chrono::steady_clock::time_point started_;
};

Server::Impl::Impl(ServerOptions options, const Router& router, metrics::Registry& registry)
    : options_(std::move(options)), router_(router), registry_(registry) {
  if (options_.workers == 0) options_.workers = 1;
  if (options_.max_queued == 0) options_.max_queued = 1;

  const auto& routes = router_.routes();
  route_metrics_.reserve(routes.size());
  for (const auto& r : routes) {
    route_metrics_.push_back(std::make_unique<RouteMetrics>(registry_, r.method, r.pattern));
  }
  for (auto m : kKnownMethods) {
    unmatched_metrics_.emplace(
        std::string(m), std::make_unique<RouteMetrics>(registry_, std::string(m), "unmatched"));
  }
  unmatched_metrics_.emplace("other",
                             std::make_unique<RouteMetrics>(registry_, "other", "unmatched"));
  registry_.describe("eltrix_http_requests_total", kRequestsHelp, metrics::Type::counter);

  in_flight_gauge_ = &registry_.gauge("eltrix_http_requests_in_flight", kInFlightHelp);
  registry_.gauge("eltrix_http_worker_threads", kWorkersHelp)
      .set(static_cast<double>(options_.workers));
  registry_.gauge("eltrix_http_connections_queue_limit", kQueueLimitHelp)
      .set(static_cast<double>(options_.max_queued));
  registry_.gauge("eltrix_http_request_body_limit_bytes", kBodyLimitHelp)
      .set(static_cast<double>(options_.max_body_bytes));
  rejected_too_large_ = &registry_.counter("eltrix_http_request_body_rejected_total",
                                           kBodyRejectedHelp, {{"reason", "too_large"}});
  rejected_not_json_ = &registry_.counter("eltrix_http_request_body_rejected_total",
                                          kBodyRejectedHelp, {{"reason", "not_json"}});
  rejected_bad_json_ = &registry_.counter("eltrix_http_request_body_rejected_total",
                                          kBodyRejectedHelp, {{"reason", "bad_json"}});

  collector_ = std::make_shared<CollectorState>();
  collector_->queued = &registry_.gauge("eltrix_http_connections_queued", kQueuedHelp);
  collector_->refused = &registry_.counter("eltrix_http_connections_refused_total", kRefusedHelp);
  std::weak_ptr<CollectorState> weak = collector_;
  registry_.add_collector([weak] {
    auto state = weak.lock();
    if (!state) return;
    std::lock_guard lock(state->mutex);
    if (state->dispatcher == nullptr) return;
    state->queued->set(state->dispatcher->queuedConnections());
    const int refused = state->dispatcher->refusedConnections();
    state->refused->inc(refused - state->last_refused);
    state->last_refused = refused;
  });

  if (options_.max_parked == 0) options_.max_parked = 1;
  parked_gauge_ = &registry_.gauge("eltrix_http_parked_requests", kParkedHelp);
  registry_.gauge("eltrix_http_parked_requests_limit", kParkedLimitHelp)
      .set(static_cast<double>(options_.max_parked));
  std::vector<AddressBlock> exempt;
  for (const auto& text : options_.connection_limit_exempt) {
    auto block = AddressBlock::parse(text);
    if (!block) throw std::invalid_argument("not an address or address block: " + text);
    exempt.push_back(*block);
  }
  limiter_ =
      std::make_shared<AddressLimiter>(options_.max_connections_per_address, std::move(exempt));
  per_address_refused_ = &registry_.counter("eltrix_http_connections_per_address_refused_total",
                                            kPerAddressRefusedHelp);
  auto& open_gauge = registry_.gauge("eltrix_http_connections_open", kOpenHelp);
  std::weak_ptr<AddressLimiter> weak_limiter = limiter_;
  registry_.add_collector([weak_limiter, &open_gauge] {
    if (auto limiter = weak_limiter.lock()) open_gauge.set(static_cast<double>(limiter->open()));
  });

  detail::ParkingOptions parking;
  parking.max_parked = options_.max_parked;
  parking.keep_alive_timeout = options_.keep_alive_timeout;
  parking.send_timeout = options_.send_timeout;
  parking.header_timeout = options_.header_timeout;
  parking.max_head_bytes = std::max<std::size_t>(options_.max_head_bytes, 1024);
  parking.reading_head_gauge =
      &registry_.gauge("eltrix_http_connections_reading_head", kReadingHeadHelp);
  parking.head_timeouts = &registry_.counter("eltrix_http_head_timeouts_total", kHeadTimeoutsHelp);
  parking.refused = collector_->refused;
  parking.heads_too_large =
      &registry_.counter("eltrix_http_heads_too_large_total", kHeadTooLargeHelp);
  lot_ = std::make_unique<detail::ParkingLot>(
      parking,
      [this](const Poco::Net::StreamSocket& s, std::shared_ptr<detail::HandOff> job) {
        return hand_back(s, std::move(job));
      },
      [this] {
        // Under the lock, so drain() cannot miss the wake-up between its
        // check and its wait.
        std::lock_guard lock(state_mutex_);
        state_cv_.notify_all();
      },
      *parked_gauge_);
}

Server::Impl::~Impl() {
  stop_accepting();
  if (started_) {
    // Anything still running after the owner's drain() gets its socket shut
    // down; the handler itself still runs to completion.
    try {
      stop_connections(true);
    } catch (...) {
    }
  }
  if (stopper_.joinable()) stopper_.join();
  {
    std::lock_guard lock(collector_->mutex);
    collector_->dispatcher = nullptr;
    collector_->queued->set(0);
  }
  // Parked sockets are closed without an answer (drain() gave them their
  // chance); a pool thread parking one now has it closed at once.
  lot_->shutdown();
  if (pool_) {
    pool_->joinAll();
    pool_.reset();
  }
  if (dispatcher_ != nullptr) dispatcher_->release();
  if (acceptor_wake_fd_ >= 0) ::close(acceptor_wake_fd_);
  lot_.reset();
}

void Server::Impl::start() {
  if (started_) throw std::logic_error("http::Server::start called twice");
  Poco::Net::SocketAddress address(options_.bind_address, options_.port);
  const int backlog = static_cast<int>(std::max<std::size_t>(64, options_.max_queued));
  // No SO_REUSEPORT: a second node on the same port must fail to start, not
  // silently share the port.
  socket_ = Poco::Net::ServerSocket();
  socket_.bind(address, true, false);
  socket_.listen(backlog);
  bound_port_ = socket_.address().port();

  const int workers = static_cast<int>(options_.workers);
  pool_ = std::make_unique<Poco::ThreadPool>(std::min(2, workers), workers, 60);

  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(workers);
  params->setMaxQueued(static_cast<int>(options_.max_queued));
  params->setKeepAlive(true);
  params->setKeepAliveTimeout(
      Poco::Timespan(static_cast<long>(options_.keep_alive_timeout.count()), 0));
  params->setSoftwareVersion(std::string("Eltrix/") + ELTRIX_VERSION);

  params_ = params;
  handler_factory_ = new HandlerFactory(*this);
  Poco::Net::TCPServerConnectionFactory::Ptr connections = new ConnectionFactory(*this);
  dispatcher_ = new Poco::Net::TCPServerDispatcher(connections, *pool_, params);
  {
    std::lock_guard lock(collector_->mutex);
    collector_->dispatcher = dispatcher_;
    collector_->last_refused = 0;
  }
  // The acceptor waits in poll() on the listening socket and on this eventfd,
  // so stop_accepting() wakes it at once; accept() never blocks because the
  // listening socket is non-blocking (a client may reset before we accept).
  acceptor_wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (acceptor_wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  socket_.setBlocking(false);
  {
    std::lock_guard lock(dispatch_mutex_);
    dispatch_open_ = true;
  }
  started_ = true;
  acceptor_ = std::thread([this] { accept_loop(); });
  logger_.info("listening", {{"address", options_.bind_address},
                             {"port", std::to_string(bound_port_)},
                             {"workers", std::to_string(options_.workers)}});
}

void Server::Impl::stop_accepting() {
  bool expected = false;
  if (!draining_.compare_exchange_strong(expected, true)) return;
  // Parked requests are cancelled (their Deferreds answer soon, with
  // Connection: close) and idle parked connections close.
  lot_->begin_drain();
  if (!started_) {
    std::lock_guard lock(state_mutex_);
    stopper_done_ = true;
    state_cv_.notify_all();
    return;
  }
  // Stop the acceptor thread, then close the listening socket so that new
  // connections are refused rather than left in the kernel's backlog.
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(acceptor_wake_fd_, &one, sizeof(one));
  if (acceptor_.joinable()) acceptor_.join();
  try {
    socket_.close();
  } catch (...) {
  }
  {
    // Connections still in the queue are dropped, as Poco's TCPServer::stop
    // does; nothing is queued after this.
    std::lock_guard lock(dispatch_mutex_);
    dispatch_open_ = false;
    dispatcher_->stop();
  }
  {
    // Their sockets were dropped from the queue with it.
    std::lock_guard lock(handoffs_mutex_);
    handoffs_.clear();
  }
  logger_.info("stopped accepting connections", {{"in_flight", std::to_string(in_flight_.load())},
                                                 {"parked", std::to_string(lot_->parked())}});
  // Each connection closes after its current request (idle keep-alive
  // connections at once), as with HTTPServer::stopAll(false); that waits for
  // the requests, so run it aside.
  stopper_ = std::thread([this] {
    try {
      stop_connections(false);
    } catch (...) {
    }
    std::lock_guard lock(state_mutex_);
    stopper_done_ = true;
    state_cv_.notify_all();
  });
}

bool Server::Impl::drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_mutex_);
  const bool draining = draining_.load();
  // Parked requests count too: a request being parked is reserved before it
  // leaves in_flight_, so there is no moment where it is neither.
  return state_cv_.wait_for(lock, timeout, [&] {
    return in_flight_.load() == 0 && lot_->parked() == 0 && (!draining || stopper_done_);
  });
}

void Server::Impl::accept_loop() {
  pollfd fds[2] = {};
  fds[0].fd = socket_.impl()->sockfd();
  fds[0].events = POLLIN;
  fds[1].fd = acceptor_wake_fd_;
  fds[1].events = POLLIN;
  while (true) {
    const int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno != EINTR) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    sockaddr_storage peer{};
    socklen_t peer_size = sizeof(peer);
    const int fd =
        ::accept4(fds[0].fd, reinterpret_cast<sockaddr*>(&peer), &peer_size, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED || errno == EINTR) {
        continue;
      }
      logger_.warn("accept failed",
                   {{"error", std::error_code(errno, std::generic_category()).message()}});
      // Out of file descriptors, most likely: give the server time to close some.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    std::string key;
    if (!limiter_->acquire(peer, key)) {
      // Closed without a word: the client has enough connections open.
      per_address_refused_->inc();
      ::close(fd);
      continue;
    }
    try {
      Poco::Net::StreamSocket connection = tracked_socket(fd, limiter_, std::move(key));
      connection.setNoDelay(true);  // as Poco's TCPServer does: responses go out at once
      // The poller reads the request head; a worker gets the connection only
      // once the head is complete (parked.h).
      lot_->watch_head(connection, true);
    } catch (const Poco::Exception& e) {
      logger_.debug("accepted connection failed", {{"error", e.displayText()}});
    }
  }
}

detail::HandBack Server::Impl::hand_back(const Poco::Net::StreamSocket& socket,
                                         std::shared_ptr<detail::HandOff> job) {
  std::lock_guard lock(dispatch_mutex_);
  if (!dispatch_open_) return detail::HandBack::refused;
  // enqueue() would drop a connection beyond the queue limit; the lot keeps
  // it and offers it again instead, so a burst of syncs that all finished at
  // once is served as workers free up rather than disconnected.
  if (static_cast<std::size_t>(dispatcher_->queuedConnections()) >= options_.max_queued) {
    return detail::HandBack::later;
  }
  if (job) {
    // serve() finds it by the socket it travels with.
    std::lock_guard jobs_lock(handoffs_mutex_);
    handoffs_[socket.impl()] = std::move(job);
  }
  dispatcher_->enqueue(socket);
  return detail::HandBack::taken;
}

void Server::Impl::serve_handoff(Poco::Net::StreamSocket socket,
                                 const std::shared_ptr<detail::HandOff>& job) {
  in_flight_.fetch_add(1);
  in_flight_gauge_->add(1);
  bool reusable = false;
  try {
    socket.setBlocking(true);
    socket.setSendTimeout(Poco::Timespan(static_cast<long>(options_.send_timeout.count()), 0));
    reusable = job->request->send(socket, std::move(job->response), job->keep_alive);
  } catch (const std::exception& e) {
    logger_.debug("sending a deferred response failed", {{"error", e.what()}});
  }
  job->request.reset();
  if (reusable && job->keep_alive && !draining_.load()) {
    lot_->watch_head(socket, false);
  } else {
    try {
      socket.shutdown();
    } catch (...) {
    }
    try {
      socket.close();
    } catch (...) {
    }
  }
  in_flight_gauge_->add(-1);
  {
    std::lock_guard lock(state_mutex_);
    in_flight_.fetch_sub(1);
  }
  state_cv_.notify_all();
}

void Server::Impl::serve(const Poco::Net::StreamSocket& first) {
  Poco::Net::StreamSocket socket = first;
  // A client that sends its next request at once is served again on this
  // thread; otherwise the connection waits in the parking lot (serve_one).
  while (serve_one(socket)) {
  }
}

bool Server::Impl::serve_one(Poco::Net::StreamSocket& socket) {
  std::shared_ptr<detail::HandOff> job;
  {
    std::lock_guard lock(handoffs_mutex_);
    if (auto it = handoffs_.find(socket.impl()); it != handoffs_.end()) {
      job = std::move(it->second);
      handoffs_.erase(it);
    }
  }
  if (job) {
    serve_handoff(socket, job);
    return false;
  }
  std::shared_ptr<HttpConnection> connection;
  try {
    connection = std::make_shared<HttpConnection>(socket, params_, handler_factory_);
  } catch (const Poco::Exception& e) {
    logger_.debug("connection failed", {{"error", e.displayText()}});
    return false;
  }
  int stop = 0;
  {
    std::lock_guard lock(live_mutex_);
    live_.emplace(connection.get(), connection);
    stop = live_stop_;
  }
  // Dequeued after the server stopped: closed like the others.
  if (stop != 0) connection->stop(stop == 2);
  t_connection = connection.get();
  try {
    connection->run();
  } catch (const Poco::Exception& e) {
    // Timeouts and resets end the connection, as in Poco's own server.
    logger_.debug("connection ended", {{"error", e.displayText()}});
  } catch (const std::exception& e) {
    logger_.debug("connection ended", {{"error", e.what()}});
  }
  t_connection = nullptr;
  {
    std::lock_guard lock(live_mutex_);
    live_.erase(connection.get());
  }
  if (auto& pending = connection->pending) {
    lot_->park(pending->socket, std::move(pending->deferred), std::move(pending->request),
               pending->keep_alive);
    return false;
  }
  if (!connection->idle) return false;
  // Waiting here holds this thread (never a core) for up to
  // options_.next_request_wait, so only while another worker is free and
  // nothing queues for one: a request from anyone else never waits for it.
  // A slow client gains nothing either: only a whole head is served here.
  bool ready = false;
  if (options_.next_request_wait.count() > 0 && !draining_.load() && dispatcher_ != nullptr &&
      dispatcher_->queuedConnections() == 0) {
    const std::size_t waiting = waiting_for_next_.fetch_add(1) + 1;
    if (in_flight_.load() + waiting < options_.workers) {
      ready = detail::next_request_ready(*connection->idle, options_.next_request_wait,
                                         options_.max_head_bytes);
    }
    waiting_for_next_.fetch_sub(1);
  }
  if (ready) {
    socket = *connection->idle;
    return true;
  }
  lot_->watch_head(*connection->idle, false);
  return false;
}

void Server::Impl::stop_connections(bool abort_current) {
  std::vector<std::shared_ptr<HttpConnection>> connections;
  {
    std::lock_guard lock(live_mutex_);
    live_stop_ = std::max(live_stop_, abort_current ? 2 : 1);
    connections.reserve(live_.size());
    for (const auto& [ptr, connection] : live_) connections.push_back(connection);
  }
  // Idle connections first: stopping a busy one waits for its request, and
  // the idle ones should not stay open that long.
  std::stable_partition(connections.begin(), connections.end(),
                        [](const auto& c) { return !c->busy.load(); });
  // Outside the lock: a graceful stop waits for requests in progress, and
  // serve() takes the lock when a connection ends.
  for (const auto& connection : connections) {
    try {
      connection->stop(abort_current);
    } catch (...) {
    }
  }
}

RouteMetrics& Server::Impl::extra_metrics(const std::string& method, const std::string& route) {
  std::lock_guard lock(extra_metrics_mutex_);
  auto& slot = extra_metrics_[{method, route}];
  if (!slot) slot = std::make_unique<RouteMetrics>(registry_, method, route);
  return *slot;
}

Response Server::Impl::dispatch(Poco::Net::HTTPServerRequest& request,
                                const std::string& request_id, std::string_view raw_path,
                                std::string_view raw_query, std::string& route_label,
                                RouteMetrics*& metrics, bool& has_body, bool& close_connection,
                                bool& linger) {
  const std::string& method = request.getMethod();
  const bool chunked = request.getChunkedTransferEncoding();
  has_body = chunked;
  // Poco 1.11's chunked reader reports a malformed or cut-off chunk as a
  // plain end of body, so after such a request the connection's framing
  // cannot be trusted: never reuse it (no request smuggling through it).
  if (chunked) close_connection = true;
  std::size_t declared = 0;
  if (!chunked && request.hasContentLength()) {
    Poco::Int64 length = -1;
    try {
      length = request.getContentLength64();
    } catch (const Poco::Exception&) {
    }
    if (length < 0) {
      close_connection = true;  // where the body ends is unknown
      return matrix_error(400, "M_UNKNOWN", "Invalid Content-Length header");
    }
    declared = static_cast<std::size_t>(length);
    has_body = declared > 0;
  }
  // Bodies that nobody reads are thrown away (if small) so keep-alive works.
  const auto drop_unread_body = [&] {
    if (has_body && !discard(request.stream(), kDiscardBeforeResponse)) {
      close_connection = true;
      linger = true;
    }
  };

  std::vector<std::string> segments;
  std::string path;
  if (!split_path(raw_path, segments, path)) {
    drop_unread_body();
    return matrix_error(400, "M_UNRECOGNIZED", "Invalid percent-encoding in the request path");
  }
  Request::Pairs query;
  if (!parse_query(raw_query, query)) {
    drop_unread_body();
    return matrix_error(400, "M_INVALID_PARAM", "Invalid percent-encoding in the query string");
  }

  Router::Match match = router_.match(method, segments);

  if (method == "OPTIONS" && match.route == nullptr) {
    // CORS preflight, answered on any path.
    if (match.path_known) {
      metrics = &extra_metrics("OPTIONS", "cors_preflight");
      route_label = "cors_preflight";
    }
    drop_unread_body();
    return Response::text(204, "", "");
  }
  if (!match.path_known) {
    drop_unread_body();
    return matrix_error(404, "M_UNRECOGNIZED", "Unrecognized request");
  }
  if (match.route == nullptr) {
    drop_unread_body();
    Response r = matrix_error(405, "M_UNRECOGNIZED", "Unrecognized request");
    r.headers.emplace_back("Allow", match.allow);
    return r;
  }

  const Router::Route& route = *match.route;
  route_label = route.pattern;
  if (route.method == method) {
    metrics = route_metrics_[static_cast<std::size_t>(&route - router_.routes().data())].get();
  } else {
    metrics = &extra_metrics(method_label(method), route.pattern);  // HEAD via GET
  }

  Request req(method, std::move(path), std::move(match.params), std::move(query), request_id,
              &request);
  const std::size_t limit =
      std::min(route.options.max_body != 0 ? route.options.max_body : options_.max_body_bytes,
               std::numeric_limits<std::size_t>::max() - 1);
  const BodyMode mode = route.options.body;

  if (mode != BodyMode::none && !chunked && declared > limit) {
    rejected_too_large_->inc();
    close_connection = true;
    linger = true;
    return matrix_error(413, "M_TOO_LARGE",
                        "Request body is " + std::to_string(declared) + " bytes; the limit is " +
                            std::to_string(limit));
  }

  if (mode == BodyMode::raw || mode == BodyMode::json) {
    std::string body;
    if (has_body) {
      auto& in = request.stream();
      body.reserve(chunked ? std::min<std::size_t>(limit, 64 * 1024) : declared);
      char buf[16384];
      while (in) {
        // Read at most limit+1 bytes: one byte over is enough to know.
        const std::size_t room = limit + 1 - body.size();
        in.read(buf, static_cast<std::streamsize>(std::min(sizeof(buf), room)));
        body.append(buf, static_cast<std::size_t>(in.gcount()));
        if (body.size() > limit) {
          rejected_too_large_->inc();
          close_connection = true;
          linger = true;
          return matrix_error(
              413, "M_TOO_LARGE",
              "Request body exceeds the limit of " + std::to_string(limit) + " bytes");
        }
        if (in.gcount() == 0) break;
      }
      if (!chunked && body.size() < declared) {
        // The client closed early or timed out; nothing useful can be sent.
        close_connection = true;
        return matrix_error(400, "M_UNKNOWN", "Request body is shorter than its Content-Length");
      }
    }
    if (mode == BodyMode::json) {
      nlohmann::json parsed;
      if (!parse_json(body, parsed)) {
        rejected_not_json_->inc();
        return matrix_error(400, "M_NOT_JSON", "Content not JSON.");
      }
      if (!parsed.is_object()) {
        rejected_bad_json_->inc();
        return matrix_error(400, "M_BAD_JSON", "Request body must be a JSON object");
      }
      req.set_json(std::move(parsed));
    }
    req.set_body(std::move(body));
  } else if (mode == BodyMode::stream) {
    std::function<bool()> cut_off;
    if (chunked) cut_off = [&request] { return client_hung_up(request); };
    req.set_body_stream(has_body ? &request.stream() : nullptr, limit,
                        chunked ? std::nullopt : std::optional<std::size_t>(declared),
                        std::move(cut_off));
  }

  Response out = route.handler(req);
  // Already on a worker: an on_worker response is simply built now.
  while (out.continuation) out = std::move(out.continuation)();

  if (mode == BodyMode::stream && req.body_truncated()) {
    // The client went away mid-body: whatever the handler made of the partial
    // data is discarded (it saw the stream fail), and the connection is done.
    close_connection = true;
    return matrix_error(400, "M_UNKNOWN", "Request body was cut off before its end");
  }

  if (mode == BodyMode::stream && req.body_too_large()) {
    rejected_too_large_->inc();
    close_connection = true;
    linger = true;
    return matrix_error(413, "M_TOO_LARGE",
                        "Request body exceeds the limit of " + std::to_string(limit) + " bytes");
  }
  if (mode == BodyMode::none || mode == BodyMode::stream) drop_unread_body();
  return out;
}

void Server::Impl::send(Poco::Net::HTTPServerRequest& request,
                        Poco::Net::HTTPServerResponse& response, const Response& out,
                        const std::string& request_id, bool close_connection) {
  set_common_headers(response, out, request_id);
  const bool no_content = out.status == 204 || out.status == 304;
  if (close_connection || draining_.load()) response.setKeepAlive(false);
  // send() + flush() rather than sendBuffer(): sendBuffer leaves the bytes in
  // a buffer until the response object dies, and a lingering close needs them
  // on the wire first.
  std::ostream& stream = response.send();
  if (!no_content && request.getMethod() != "HEAD") {
    if (out.streamed_body) {
      send_streamed(request, stream, out, request_id);
    } else {
      stream.write(out.body.data(), static_cast<std::streamsize>(out.body.size()));
    }
  }
  stream.flush();
}

void Server::Impl::send_streamed(Poco::Net::HTTPServerRequest& request, std::ostream& stream,
                                 const Response& out, const std::string& request_id) {
  // One fixed buffer per response: memory stays flat whatever the body size.
  std::vector<char> buffer(kStreamBufferSize);
  std::uint64_t left = out.streamed_length;
  std::string failure;
  try {
    while (left > 0 && stream.good()) {
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer.size()));
      const std::size_t got = out.streamed_body->read(buffer.data(), want);
      if (got == 0) {
        failure = "the body ended " + std::to_string(left) + " bytes early";
        break;
      }
      stream.write(buffer.data(), static_cast<std::streamsize>(std::min(got, want)));
      left -= std::min(got, want);
    }
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (left == 0 || !stream.good()) return;  // sent, or the client went away
  // The status and Content-Length are out already: the only honest signal
  // left is to cut the connection, so the client sees a short body rather
  // than a complete-looking wrong one.
  logger_.warn("streamed response failed; closing the connection",
               {{"request_id", request_id}, {"error", failure}});
  stream.flush();
  if (auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request)) {
    try {
      impl->socket().shutdown();
    } catch (...) {
    }
  }
  throw std::runtime_error("streamed response failed: " + failure);
}

void Server::Impl::handle(Poco::Net::HTTPServerRequest& request,
                          Poco::Net::HTTPServerResponse& response) {
  const auto started = std::chrono::steady_clock::now();
  struct Busy {
    explicit Busy(HttpConnection* c) : connection(c) {
      if (connection != nullptr) connection->busy = true;
    }
    ~Busy() {
      if (connection != nullptr) connection->busy = false;
    }
    Busy(const Busy&) = delete;
    Busy& operator=(const Busy&) = delete;
    HttpConnection* connection;
  } busy(t_connection);
  in_flight_.fetch_add(1);
  in_flight_gauge_->add(1);

  std::string request_id;
  if (request.has("X-Request-ID")) {
    const std::string& given = request.get("X-Request-ID");
    if (valid_request_id(given)) request_id = given;
  }
  if (request_id.empty()) request_id = new_request_id();

  // Origin-form "/path?query"; an absolute-form target loses its scheme and authority.
  std::string_view target = request.getURI();
  if (target.starts_with("http://") || target.starts_with("https://")) {
    const auto slash = target.find('/', target.find("//") + 2);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  const auto qmark = target.find('?');
  const std::string_view raw_path = target.substr(0, qmark);
  const std::string_view raw_query =
      qmark == std::string_view::npos ? std::string_view{} : target.substr(qmark + 1);

  const std::string& method = request.getMethod();
  std::string route_label = "unmatched";
  RouteMetrics* metrics = nullptr;
  bool has_body = false;
  bool close_connection = false;
  bool linger = false;
  Response out;
  // A handler may throw before reading its (streamed) body; drop the rest.
  const auto drop_unread_body = [&] {
    if (!has_body || linger) return;
    try {
      if (!discard(request.stream(), kDiscardBeforeResponse)) close_connection = true;
    } catch (...) {
      close_connection = true;
    }
  };
  try {
    out = dispatch(request, request_id, raw_path, raw_query, route_label, metrics, has_body,
                   close_connection, linger);
  } catch (const MatrixError& e) {
    out = Response::error(e);
    drop_unread_body();
  } catch (const errors::Error& e) {
    // A domain error from below the HTTP layer: mapped like a MatrixError.
    log_domain_error(e, request_id, route_label);
    out = Response::error(e);
    drop_unread_body();
  } catch (const Poco::TimeoutException&) {
    // The client stopped sending mid-body: its fault, not the server's, so no
    // 5xx to page anyone about.
    logger_.debug("request body timed out", {{"request_id", request_id}, {"route", route_label}});
    out = matrix_error(408, "M_UNKNOWN", "Timed out reading the request body");
    close_connection = true;
  } catch (const Poco::Net::NetException& e) {
    logger_.debug("client connection failed",
                  {{"request_id", request_id}, {"route", route_label}, {"error", e.displayText()}});
    out = matrix_error(400, "M_UNKNOWN", "The connection failed while reading the request");
    close_connection = true;
  } catch (const Poco::Exception& e) {
    logger_.error("request failed",
                  {{"request_id", request_id}, {"route", route_label}, {"error", e.displayText()}});
    out = matrix_error(500, "M_UNKNOWN", "Internal server error");
    close_connection = true;  // the body may be half read
  } catch (const std::exception& e) {
    logger_.error("request failed",
                  {{"request_id", request_id}, {"route", route_label}, {"error", e.what()}});
    out = matrix_error(500, "M_UNKNOWN", "Internal server error");
    close_connection = true;
  } catch (...) {
    logger_.error(
        "request failed",
        {{"request_id", request_id}, {"route", route_label}, {"error", "unknown exception"}});
    out = matrix_error(500, "M_UNKNOWN", "Internal server error");
    close_connection = true;
  }

  if (metrics == nullptr) metrics = unmatched_metrics_.at(method_label(method)).get();

  if (out.deferral && park(request, response, out, request_id, raw_path, route_label, *metrics,
                           close_connection, started)) {
    // Counted and logged when the Deferred completes. The request is parked
    // (reserved) before it stops being in flight, so drain() never sees it
    // in neither state.
    in_flight_gauge_->add(-1);
    {
      std::lock_guard lock(state_mutex_);
      in_flight_.fetch_sub(1);
    }
    state_cv_.notify_all();
    return;
  }

  // Counted before the response goes out, so a client that reads /metrics
  // right after its response always sees its request. The duration covers
  // routing, body reading and the handler.
  metrics->record(
      out.status,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

  // A keep-alive connection goes back to the poller after this response
  // rather than wait for its next request on this thread (HTTPServerSession
  // would, for keep_alive_timeout). Bytes already read past this request (a
  // pipelined one) cannot go back to the kernel, so such a connection closes
  // after this response instead; HTTP/1.1 clients retry unanswered requests.
  auto* request_impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request);
  bool give_back = false;
  if (!close_connection && !linger && !draining_.load() && response.getKeepAlive() &&
      request_impl != nullptr && t_connection != nullptr) {
    Poco::Buffer<char> unread(0);
    request_impl->session().drainBuffer(unread);
    if (unread.size() != 0) {
      close_connection = true;
    } else {
      give_back = true;
    }
  }

  bool sent = false;
  try {
    send(request, response, out, request_id, close_connection);
    sent = true;
    if (give_back && response.getKeepAlive()) {
      t_connection->idle.emplace(request_impl->detachSocket());
      // The connection object outlives this request by a little; its copy of
      // the socket must not be shut down by a stop in that window.
      t_connection->forget_socket();
    }
    if (linger) {
      // The client may still be sending the body we refused. Signal the end of
      // our response, then read a little so that closing does not reset the
      // connection before the client has read the 413.
      if (auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request)) {
        impl->socket().shutdownSend();
        impl->socket().setReceiveTimeout(Poco::Timespan(1, 0));
      }
      discard(request.stream(), kLingerBytes);
    }
  } catch (const std::exception& e) {
    if (!sent) {
      logger_.debug("could not send response", {{"request_id", request_id}, {"error", e.what()}});
    }
  }

  account(*metrics, method, raw_path, route_label, request_id, out.status,
          static_cast<std::size_t>(out.body_size()), started, false);

  in_flight_gauge_->add(-1);
  {
    std::lock_guard lock(state_mutex_);
    in_flight_.fetch_sub(1);
  }
  state_cv_.notify_all();
}

void Server::Impl::account(RouteMetrics& metrics, const std::string& method, std::string_view path,
                           const std::string& route_label, const std::string& request_id,
                           int status, std::size_t bytes,
                           std::chrono::steady_clock::time_point started, bool record_metrics) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // The normal path records its metrics before sending (see handle()) and
  // only logs here; a deferred response does both here, before its bytes go out.
  if (record_metrics) metrics.record(status, seconds);
  const log::Level level = status >= 500 ? log::Level::warn : log::Level::info;
  if (logger_.enabled(level)) {
    char duration[32];
    std::snprintf(duration, sizeof(duration), "%.3f", seconds * 1000.0);
    const std::string status_text = std::to_string(status);
    const std::string bytes_text = std::to_string(bytes);
    const std::string path_text(path);
    logger_.log(level, "request",
                {{"request_id", request_id},
                 {"method", method},
                 {"path", path_text},
                 {"route", route_label},
                 {"status", status_text},
                 {"duration_ms", duration},
                 {"bytes", bytes_text}});
  }
}

bool Server::Impl::park(Poco::Net::HTTPServerRequest& request,
                        Poco::Net::HTTPServerResponse& response, Response& out,
                        const std::string& request_id, std::string_view raw_path,
                        const std::string& route_label, RouteMetrics& metrics,
                        bool close_connection, std::chrono::steady_clock::time_point started) {
  auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&request);
  if (impl == nullptr || t_connection == nullptr || t_connection->pending.has_value()) {
    // Only reachable if the server's own plumbing changes.
    logger_.error("cannot park a request outside a server connection",
                  {{"request_id", request_id}, {"route", route_label}});
    out = matrix_error(500, "M_UNKNOWN", "Internal server error");
    return false;
  }
  if (!lot_->reserve()) {
    // Handlers normally never get here: the notifier's own limit (kept at or
    // below max_parked) makes them answer at once instead of deferring.
    logger_.warn("too many parked requests", {{"request_id", request_id},
                                              {"route", route_label},
                                              {"max_parked", std::to_string(lot_->max_parked())}});
    out = Response::error(MatrixError(503, "M_LIMIT_EXCEEDED", "Too many requests waiting")
                              .with("retry_after_ms", 1000));
    out.headers.emplace_back("Retry-After", "1");
    return false;
  }
  // Poco decided whether the connection may stay open (HTTP version,
  // Connection header, keep-alive limits) when it read the request.
  bool keep_alive = response.getKeepAlive() && !close_connection && !draining_.load();
  // Bytes already read past this request (a pipelined next request) live in
  // the session's buffer, which stays behind: such a connection closes after
  // the deferred response instead of losing a request silently.
  Poco::Buffer<char> unread(0);
  impl->session().drainBuffer(unread);
  if (unread.size() != 0) keep_alive = false;

  PendingPark& pending = t_connection->pending.emplace();
  pending.socket = impl->detachSocket();
  // The connection object outlives this request by a little; its copy of the
  // socket must not be shut down by a stop in that window.
  t_connection->forget_socket();
  pending.deferred = std::move(out.deferral);
  pending.keep_alive = keep_alive;
  pending.request = std::make_unique<Parked>(
      *this, metrics, request.getMethod(), std::string(raw_path), route_label, request_id,
      request.getVersion(), request.getMethod() == "HEAD", started);
  return true;
}

// ---------------------------------------------------------------------------

Server::Server(ServerOptions options, const Router& router, metrics::Registry& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, metrics)) {}

Server::~Server() = default;

void Server::start() {
  impl_->start();
}

std::uint16_t Server::port() const {
  return impl_->started_ ? impl_->bound_port_ : impl_->options_.port;
}

void Server::stop_accepting() {
  impl_->stop_accepting();
}

bool Server::drain(std::chrono::milliseconds timeout) {
  return impl_->drain(timeout);
}

std::size_t Server::in_flight() const {
  return impl_->in_flight_.load();
}

bool Server::draining() const {
  return impl_->draining_.load();
}

std::size_t Server::reading_head() const {
  return impl_->lot_->reading_head();
}

std::size_t Server::connections() const {
  return impl_->limiter_->open();
}

std::size_t Server::parked() const {
  return impl_->lot_->parked();
}

bool Server::can_park() const {
  return !impl_->draining_.load() && impl_->lot_->parked() < impl_->lot_->max_parked();
}

}  // namespace eltrix::http
