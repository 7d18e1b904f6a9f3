#include "http/server.h"

#include "http/body.h"
#include "http/request_id.h"

#include "build_info.h"
#include "log/log.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <limits>
#include <map>
#include <mutex>
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

/// Longest a rejected body is read (and thrown away) so the client sees the
/// response instead of a connection reset.
constexpr std::size_t kDiscardBeforeResponse = 64 * 1024;
constexpr std::size_t kLingerBytes = 256 * 1024;

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
  Poco::Net::HTTPServer* server = nullptr;
  metrics::Gauge* queued = nullptr;
  metrics::Counter* refused = nullptr;
  int last_refused = 0;
};

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, const Router& router, metrics::Registry& registry);
  ~Impl();

  void start();
  void stop_accepting();
  bool drain(std::chrono::milliseconds timeout);
  void handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);

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
  std::atomic<bool> draining_{false};
  std::mutex state_mutex_;
  std::condition_variable state_cv_;
  bool stopper_done_ = false;

  std::unique_ptr<Poco::ThreadPool> pool_;
  Poco::Net::ServerSocket socket_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  std::uint16_t bound_port_ = 0;
  std::thread stopper_;

 private:
  RouteMetrics& extra_metrics(const std::string& method, const std::string& route);
  Response dispatch(Poco::Net::HTTPServerRequest& request, const std::string& request_id,
                    std::string_view raw_path, std::string_view raw_query, std::string& route_label,
                    RouteMetrics*& metrics, bool& has_body, bool& close_connection, bool& linger);
  void send(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
            const Response& out, const std::string& request_id, bool close_connection);
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

}  // namespace

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
    if (state->server == nullptr) return;
    state->queued->set(state->server->queuedConnections());
    const int refused = state->server->refusedConnections();
    state->refused->inc(refused - state->last_refused);
    state->last_refused = refused;
  });
}

Server::Impl::~Impl() {
  stop_accepting();
  if (server_) {
    // Anything still running after the owner's drain() gets its socket shut
    // down; the handler itself still runs to completion.
    try {
      server_->stopAll(true);
    } catch (...) {
    }
  }
  if (stopper_.joinable()) stopper_.join();
  {
    std::lock_guard lock(collector_->mutex);
    collector_->server = nullptr;
    collector_->queued->set(0);
  }
  server_.reset();
  if (pool_) {
    pool_->joinAll();
    pool_.reset();
  }
}

void Server::Impl::start() {
  if (server_) throw std::logic_error("http::Server::start called twice");
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

  server_ =
      std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(*this), *pool_, socket_, params);
  {
    std::lock_guard lock(collector_->mutex);
    collector_->server = server_.get();
    collector_->last_refused = 0;
  }
  server_->start();
  logger_.info("listening", {{"address", options_.bind_address},
                             {"port", std::to_string(bound_port_)},
                             {"workers", std::to_string(options_.workers)}});
}

void Server::Impl::stop_accepting() {
  bool expected = false;
  if (!draining_.compare_exchange_strong(expected, true)) return;
  if (!server_) {
    std::lock_guard lock(state_mutex_);
    stopper_done_ = true;
    state_cv_.notify_all();
    return;
  }
  // Stop the acceptor thread, then close the listening socket so that new
  // connections are refused rather than left in the kernel's backlog.
  server_->stop();
  try {
    socket_.close();
  } catch (...) {
  }
  logger_.info("stopped accepting connections", {{"in_flight", std::to_string(in_flight_.load())}});
  // stopAll(false) waits for each connection's current request and then shuts
  // the connection down (idle keep-alive connections at once), so run it aside.
  stopper_ = std::thread([this] {
    try {
      server_->stopAll(false);
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
  return state_cv_.wait_for(lock, timeout,
                            [&] { return in_flight_.load() == 0 && (!draining || stopper_done_); });
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
    req.set_body_stream(has_body ? &request.stream() : nullptr, limit,
                        chunked ? std::nullopt : std::optional<std::size_t>(declared));
  }

  Response out = route.handler(req);

  if (mode == BodyMode::stream && req.body_truncated()) {
    // The client went away mid-body: whatever the handler made of the partial
    // data is discarded (it saw the stream fail), and the connection is done.
    close_connection = true;
    return matrix_error(400, "M_UNKNOWN", "Request body is shorter than its Content-Length");
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
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(out.status));
  const bool no_content = out.status == 204 || out.status == 304;
  if (!no_content && !out.content_type.empty()) response.setContentType(out.content_type);
  for (const auto& [k, v] : out.headers) response.set(k, v);
  response.set("Access-Control-Allow-Origin", "*");
  response.set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS");
  response.set("Access-Control-Allow-Headers", "X-Requested-With, Content-Type, Authorization");
  response.set("X-Request-ID", request_id);
  if (close_connection || draining_.load()) response.setKeepAlive(false);
  // send() + flush() rather than sendBuffer(): sendBuffer leaves the bytes in
  // a buffer until the response object dies, and a lingering close needs them
  // on the wire first.
  response.setContentLength64(no_content ? 0 : static_cast<Poco::Int64>(out.body.size()));
  std::ostream& stream = response.send();
  if (!no_content && request.getMethod() != "HEAD") {
    stream.write(out.body.data(), static_cast<std::streamsize>(out.body.size()));
  }
  stream.flush();
}

void Server::Impl::handle(Poco::Net::HTTPServerRequest& request,
                          Poco::Net::HTTPServerResponse& response) {
  const auto started = std::chrono::steady_clock::now();
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
  try {
    out = dispatch(request, request_id, raw_path, raw_query, route_label, metrics, has_body,
                   close_connection, linger);
  } catch (const MatrixError& e) {
    out = Response::error(e);
    // A handler may throw before reading its (streamed) body; drop the rest.
    if (has_body && !linger) {
      try {
        if (!discard(request.stream(), kDiscardBeforeResponse)) close_connection = true;
      } catch (...) {
        close_connection = true;
      }
    }
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

  // Counted before the response goes out, so a client that reads /metrics
  // right after its response always sees its request. The duration covers
  // routing, body reading and the handler.
  if (metrics == nullptr) metrics = unmatched_metrics_.at(method_label(method)).get();
  metrics->record(
      out.status,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

  bool sent = false;
  try {
    send(request, response, out, request_id, close_connection);
    sent = true;
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

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const log::Level level = out.status >= 500 ? log::Level::warn : log::Level::info;
  if (logger_.enabled(level)) {
    char duration[32];
    std::snprintf(duration, sizeof(duration), "%.3f", seconds * 1000.0);
    const std::string status = std::to_string(out.status);
    const std::string bytes = std::to_string(out.body.size());
    const std::string path(raw_path);
    logger_.log(level, "request",
                {{"request_id", request_id},
                 {"method", method},
                 {"path", path},
                 {"route", route_label},
                 {"status", status},
                 {"duration_ms", duration},
                 {"bytes", bytes}});
  }

  in_flight_gauge_->add(-1);
  {
    std::lock_guard lock(state_mutex_);
    in_flight_.fetch_sub(1);
  }
  state_cv_.notify_all();
}

// ---------------------------------------------------------------------------

Server::Server(ServerOptions options, const Router& router, metrics::Registry& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, metrics)) {}

Server::~Server() = default;

void Server::start() {
  impl_->start();
}

std::uint16_t Server::port() const {
  return impl_->server_ ? impl_->bound_port_ : impl_->options_.port;
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

}  // namespace eltrix::http
