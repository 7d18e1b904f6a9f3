// Deferred responses through a real http::Server on loopback: the bytes on the
// wire, keep-alive after parking, many parked requests on few threads,
// hang-ups, draining, HEAD and Connection: close.
#include "http/deferred.h"
#include "http/server.h"
#include "metrics/registry.h"
#include "unit/http/test_client.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace eltrix;
using namespace std::chrono_literals;

namespace {

/// What a TestDeferred does when cancelled.
enum class OnCancel {
  answer,        // complete() at once, from cancel()
  answer_later,  // complete() 200 ms later, from another thread
  ignore,        // nothing (the test completes it)
};

class TestDeferred;

/// Every TestDeferred the routes create, so a test can complete them.
struct Board {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::shared_ptr<TestDeferred>> started;
  int cancels = 0;
  // /gated-wait holds its handler until the gate opens.
  bool gate_open = false;
  int at_gate = 0;

  void gate() {
    std::unique_lock lock(m);
    ++at_gate;
    cv.notify_all();
    cv.wait(lock, [&] { return gate_open; });
  }
  void wait_at_gate() {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return at_gate > 0; });
  }
  void open_gate() {
    std::lock_guard lock(m);
    gate_open = true;
    cv.notify_all();
  }

  bool wait_started(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, timeout, [&] { return started.size() >= n; });
  }
  bool wait_cancels(int n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, timeout, [&] { return cancels >= n; });
  }
  std::shared_ptr<TestDeferred> at(std::size_t i) {
    std::lock_guard lock(m);
    return started.at(i);
  }
};

class TestDeferred final : public http::Deferred,
                           public std::enable_shared_from_this<TestDeferred> {
 public:
  TestDeferred(Board& board, OnCancel on_cancel) : board_(board), on_cancel_(on_cancel) {}

  void start(std::function<void(http::Response)> complete) override {
    complete_ = std::move(complete);
    std::lock_guard lock(board_.m);
    board_.started.push_back(shared_from_this());
    board_.cv.notify_all();
  }
  void cancel() override {
    {
      std::lock_guard lock(board_.m);
      ++board_.cancels;
      board_.cv.notify_all();
    }
    if (on_cancel_ == OnCancel::answer) {
      complete_(http::Response::text(200, "text/plain", "cancelled"));
    } else if (on_cancel_ == OnCancel::answer_later) {
      std::thread([complete = complete_] {
        std::this_thread::sleep_for(200ms);
        complete(http::Response::text(200, "text/plain", "cancelled later"));
      }).detach();
    }
  }
  void complete(http::Response r) { complete_(std::move(r)); }
  std::function<void(http::Response)> completer() const { return complete_; }

 private:
  Board& board_;
  OnCancel on_cancel_;
  std::function<void(http::Response)> complete_;
};

/// Answers synchronously from start().
class ImmediateDeferred final : public http::Deferred {
 public:
  void start(std::function<void(http::Response)> complete) override {
    complete(http::Response::json_text(200, R"({"immediate":true})"));
    complete(http::Response::json_text(500, R"({"second":true})"));  // ignored
  }
  void cancel() override {}
};

class ThrowingDeferred final : public http::Deferred {
 public:
  void start(std::function<void(http::Response)>) override {
    throw std::runtime_error("start failed");
  }
  void cancel() override {}
};

http::Router routes(Board& board, OnCancel on_cancel) {
  http::Router router;
  router.add("GET", "/wait", [&board, on_cancel](http::Request&) {
    return http::Response::deferred(std::make_shared<TestDeferred>(board, on_cancel));
  });
  router.add("GET", "/gated-wait", [&board, on_cancel](http::Request&) {
    board.gate();
    return http::Response::deferred(std::make_shared<TestDeferred>(board, on_cancel));
  });
  router.add("GET", "/immediate", [](http::Request&) {
    return http::Response::deferred(std::make_shared<ImmediateDeferred>());
  });
  router.add("GET", "/throws", [](http::Request&) {
    return http::Response::deferred(std::make_shared<ThrowingDeferred>());
  });
  router.add("GET", "/fast",
             [](http::Request&) { return http::Response::text(200, "text/plain", "fast"); });
  return router;
}

http::ServerOptions options() {
  http::ServerOptions o;
  o.bind_address = "127.0.0.1";
  o.port = 0;
  o.workers = 4;
  o.keep_alive_timeout = std::chrono::seconds(10);
  return o;
}

struct Fixture {
  explicit Fixture(OnCancel on_cancel = OnCancel::answer, http::ServerOptions o = options())
      : router(routes(board, on_cancel)), server(o, router, registry) {
    server.start();
  }
  Board board;
  metrics::Registry registry;
  http::Router router;
  http::Server server;
  std::uint16_t port() const { return server.port(); }
};

struct RawResponse {
  std::string status_line;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  bool closed = false;  // EOF before a complete response
};

/// Reads one response from `s` (Content-Length framing); `head` when it
/// answers a HEAD request (no body follows whatever Content-Length says).
RawResponse read_response(Poco::Net::StreamSocket& s, std::string& buffer, bool head = false) {
  RawResponse r;
  char chunk[65536];
  std::size_t head_end = std::string::npos;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    const int n = s.receiveBytes(chunk, sizeof(chunk));
    if (n <= 0) {
      r.closed = true;
      return r;
    }
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  const std::string head_text = buffer.substr(0, head_end);
  std::size_t pos = head_text.find("\r\n");
  r.status_line = head_text.substr(0, pos);
  while (pos != std::string::npos && pos < head_text.size()) {
    const std::size_t next = head_text.find("\r\n", pos + 2);
    const std::string line =
        head_text.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[test::lower(line.substr(0, colon))] = value;
    }
    pos = next;
  }
  std::size_t length = 0;
  if (!head && r.headers.count("content-length") != 0) {
    length = std::stoul(r.headers["content-length"]);
  }
  buffer.erase(0, head_end + 4);
  while (buffer.size() < length) {
    const int n = s.receiveBytes(chunk, sizeof(chunk));
    if (n <= 0) {
      r.closed = true;
      return r;
    }
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  r.body = buffer.substr(0, length);
  buffer.erase(0, length);
  return r;
}

/// A raw client connection (so that a reconnect cannot hide a closed one).
struct Client {
  explicit Client(std::uint16_t port) : socket(Poco::Net::SocketAddress("127.0.0.1", port)) {
    socket.setReceiveTimeout(Poco::Timespan(10, 0));
  }
  void send(const std::string& text) {
    socket.sendBytes(text.data(), static_cast<int>(text.size()));
  }
  RawResponse receive(bool head = false) { return read_response(socket, buffer, head); }
  /// True if the server closed the connection (EOF) within the receive timeout.
  bool at_eof() {
    char c = 0;
    try {
      return socket.receiveBytes(&c, 1) == 0;
    } catch (const Poco::Net::ConnectionResetException&) {
      return true;
    }
  }
  Poco::Net::StreamSocket socket;
  std::string buffer;
};

std::string get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

double requests(metrics::Registry& r, const std::string& route, const std::string& status,
                const std::string& method = "GET") {
  return r
      .counter("eltrix_http_requests_total",
               "HTTP requests served, by method, route pattern and status.",
               {{"method", method}, {"route", route}, {"status", status}})
      .value();
}

double parked_gauge(metrics::Registry& r) {
  return r
      .gauge("eltrix_http_parked_requests",
             "Requests parked without a thread (deferred responses such as sync long-polls), "
             "until their response is written.")
      .value();
}

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 10s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

TEST_CASE("a deferred response completed by another thread is a normal response",
          "[http][deferred]") {
  Fixture f;
  Client c(f.port());

  // The normal path's headers, to compare with.
  c.send(get("/fast", "X-Request-ID: normal-1\r\n"));
  const auto normal = c.receive();
  REQUIRE(normal.status_line == "HTTP/1.1 200 OK");

  c.send(get("/wait", "X-Request-ID: parked-1\r\n"));
  REQUIRE(f.board.wait_started(1));
  CHECK(f.server.parked() == 1);
  CHECK(f.server.in_flight() == 0);  // no thread holds it
  CHECK(parked_gauge(f.registry) == 1);
  std::thread([d = f.board.at(0)] {
    auto r = http::Response::json(200, nlohmann::json{{"next_batch", "s42"}});
    r.headers.emplace_back("Cache-Control", "no-store");
    d->complete(std::move(r));
  }).join();
  const auto parked = c.receive();
  CHECK(parked.status_line == "HTTP/1.1 200 OK");
  CHECK(parked.body == R"({"next_batch":"s42"})");
  CHECK(parked.headers.at("content-type") == "application/json");
  CHECK(parked.headers.at("content-length") == std::to_string(parked.body.size()));
  CHECK(parked.headers.at("x-request-id") == "parked-1");
  CHECK(parked.headers.at("access-control-allow-origin") == "*");
  CHECK(parked.headers.at("access-control-allow-methods") ==
        "GET, HEAD, POST, PUT, DELETE, OPTIONS");
  CHECK(parked.headers.at("access-control-allow-headers") ==
        "X-Requested-With, Content-Type, Authorization");
  CHECK(parked.headers.at("connection") == "Keep-Alive");
  CHECK(parked.headers.at("cache-control") == "no-store");
  // Every header the normal path sends (Date, Server, ...) is there too.
  for (const auto& [name, value] : normal.headers) {
    INFO(name);
    CHECK(parked.headers.count(name) == 1);
  }

  // Keep-alive: the same connection serves a normal and another deferred request.
  c.send(get("/fast"));
  auto r = c.receive();
  CHECK(r.status_line == "HTTP/1.1 200 OK");
  CHECK(r.body == "fast");
  c.send(get("/wait"));
  REQUIRE(f.board.wait_started(2));
  f.board.at(1)->complete(http::Response::text(201, "text/plain", "again"));
  r = c.receive();
  CHECK(r.status_line == "HTTP/1.1 201 Created");
  CHECK(r.body == "again");
  c.send(get("/fast"));
  CHECK(c.receive().body == "fast");

  // Counted once each, with the route label and the completed status.
  CHECK(eventually([&] { return f.server.parked() == 0 && f.server.in_flight() == 0; }));
  CHECK(requests(f.registry, "/wait", "200") == 1);
  CHECK(requests(f.registry, "/wait", "201") == 1);
  CHECK(requests(f.registry, "/fast", "200") == 3);
  const std::string text = f.registry.render();
  INFO(text);
  CHECK(
      text.find("eltrix_http_request_duration_seconds_count{method=\"GET\",route=\"/wait\"} 2\n") !=
      std::string::npos);
  CHECK(text.find("eltrix_http_parked_requests 0\n") != std::string::npos);
  CHECK(text.find("eltrix_http_parked_requests_limit 10000\n") != std::string::npos);
  CHECK(text.find("eltrix_http_requests_in_flight 0\n") != std::string::npos);
  auto [status, output] = test::promtool_check(text);
  INFO(output);
  CHECK(status == 0);
}

TEST_CASE("complete() inside start(), a second complete() and a throwing start()",
          "[http][deferred]") {
  Fixture f;
  Client c(f.port());
  c.send(get("/immediate"));
  auto r = c.receive();
  CHECK(r.status_line == "HTTP/1.1 200 OK");
  CHECK(r.body == R"({"immediate":true})");
  c.send(get("/throws"));
  r = c.receive();
  CHECK(r.status_line == "HTTP/1.1 500 Internal Server Error");
  CHECK_THAT(r.body, Catch::Contains("M_UNKNOWN"));
  c.send(get("/fast"));
  CHECK(c.receive().body == "fast");
  CHECK(eventually([&] { return requests(f.registry, "/throws", "500") == 1; }));
  CHECK(requests(f.registry, "/immediate", "200") == 1);
  CHECK(requests(f.registry, "/immediate", "500") == 0);
}

TEST_CASE("500 parked requests on 4 workers leave the server answering", "[http][deferred]") {
  raise_fd_limit();
  Fixture f;
  constexpr int kParked = 500;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kParked; ++i) {
    clients.push_back(std::make_unique<Client>(f.port()));
    clients.back()->send(get("/wait"));
    // In batches below the accept queue limit (256): a burst of new
    // connections beyond it is refused, parked or not.
    if (i % 100 == 99) REQUIRE(f.board.wait_started(static_cast<std::size_t>(i + 1)));
  }
  REQUIRE(f.board.wait_started(kParked));
  CHECK(f.server.parked() == kParked);

  // A normal route still answers, on new connections and on a kept-alive one.
  for (int i = 0; i < 20; ++i) {
    auto r = test::get(f.port(), "/fast");
    REQUIRE(r.status == 200);
    CHECK(r.body == "fast");
  }
  {
    Client c(f.port());
    for (int i = 0; i < 5; ++i) {
      c.send(get("/fast"));
      CHECK(c.receive().body == "fast");
    }
  }

  // Complete them all from two threads; every client gets its own answer.
  auto half = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      f.board.at(static_cast<std::size_t>(i))
          ->complete(http::Response::text(200, "text/plain", "n" + std::to_string(i)));
    }
  };
  std::thread a(half, 0, kParked / 2);
  std::thread b(half, kParked / 2, kParked);
  a.join();
  b.join();
  // The board is in start() order, not connection order: collect the bodies.
  std::set<std::string> bodies;
  for (auto& client : clients) {
    auto r = client->receive();
    REQUIRE(r.status_line == "HTTP/1.1 200 OK");
    bodies.insert(r.body);
  }
  CHECK(bodies.size() == kParked);
  CHECK(eventually([&] { return f.server.parked() == 0; }));
  CHECK(requests(f.registry, "/wait", "200") == kParked);
}

TEST_CASE("a client that disconnects cancels its parked request", "[http][deferred]") {
  Fixture f(OnCancel::answer);
  {
    Client c(f.port());
    c.send(get("/wait"));
    REQUIRE(f.board.wait_started(1));
    c.socket.close();
  }
  REQUIRE(f.board.wait_cancels(1));
  CHECK(eventually([&] { return f.server.parked() == 0; }));
  // Counted once, with the status the Deferred answered.
  CHECK(eventually([&] { return requests(f.registry, "/wait", "200") == 1; }));

  // A reset (RST) is noticed too.
  {
    Client c(f.port());
    c.send(get("/wait"));
    REQUIRE(f.board.wait_started(2));
    c.socket.setLinger(true, 0);
    c.socket.close();
  }
  REQUIRE(f.board.wait_cancels(2));
  CHECK(eventually([&] { return f.server.parked() == 0; }));

  // A half-close (the client shuts its sending side) cancels, but the answer
  // still reaches it.
  Client half(f.port());
  half.send(get("/wait"));
  REQUIRE(f.board.wait_started(3));
  half.socket.shutdownSend();
  REQUIRE(f.board.wait_cancels(3));
  const auto r = half.receive();
  CHECK(r.status_line == "HTTP/1.1 200 OK");
  CHECK(r.body == "cancelled");
}

TEST_CASE("draining cancels every parked request and each gets its response", "[http][deferred]") {
  auto on_cancel = GENERATE(OnCancel::answer, OnCancel::answer_later);
  Fixture f(on_cancel);
  constexpr int kParked = 30;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kParked; ++i) {
    clients.push_back(std::make_unique<Client>(f.port()));
    clients.back()->send(get("/wait"));
  }
  REQUIRE(f.board.wait_started(kParked));
  // A kept-alive connection idle after a deferred response is closed by the drain.
  Client idle(f.port());
  idle.send(get("/immediate"));
  CHECK(idle.receive().body == R"({"immediate":true})");

  f.server.stop_accepting();
  CHECK_FALSE(f.server.can_park());
  REQUIRE(f.board.wait_cancels(kParked));
  CHECK(f.server.drain(10s));
  CHECK(f.server.parked() == 0);
  const std::string expected = on_cancel == OnCancel::answer ? "cancelled" : "cancelled later";
  for (auto& client : clients) {
    auto r = client->receive();
    REQUIRE(r.status_line == "HTTP/1.1 200 OK");
    CHECK(r.body == expected);
    CHECK(r.headers.at("connection") == "Close");
    CHECK(client->at_eof());
  }
  CHECK(idle.at_eof());
  CHECK(requests(f.registry, "/wait", "200") == kParked);
}

TEST_CASE("drain waits for parked requests until they answer", "[http][deferred]") {
  Fixture f(OnCancel::ignore);
  Client c(f.port());
  c.send(get("/wait"));
  REQUIRE(f.board.wait_started(1));
  f.server.stop_accepting();
  REQUIRE(f.board.wait_cancels(1));
  CHECK_FALSE(f.server.drain(200ms));  // cancelled but not answered yet
  f.board.at(0)->complete(http::Response::text(200, "text/plain", "late"));
  CHECK(f.server.drain(5s));
  auto r = c.receive();
  CHECK(r.body == "late");
  CHECK(r.headers.at("connection") == "Close");
}

TEST_CASE("a request parked while draining is cancelled once started", "[http][deferred]") {
  Fixture f(OnCancel::answer);
  Client c(f.port());
  // In flight when the drain starts; its handler defers only afterwards.
  c.send(get("/gated-wait"));
  f.board.wait_at_gate();
  f.server.stop_accepting();
  CHECK_FALSE(f.server.drain(100ms));
  f.board.open_gate();
  REQUIRE(f.board.wait_started(1));
  REQUIRE(f.board.wait_cancels(1));
  auto r = c.receive();
  CHECK(r.body == "cancelled");
  CHECK(r.headers.at("connection") == "Close");
  CHECK(f.server.drain(5s));
  CHECK(c.at_eof());
}

TEST_CASE("HEAD, Connection: close and HTTP/1.0 on deferred responses", "[http][deferred]") {
  Fixture f;
  SECTION("HEAD gets the headers with the body's length and no body, then keep-alive") {
    Client c(f.port());
    c.send("HEAD /wait HTTP/1.1\r\nHost: test\r\n\r\n");
    REQUIRE(f.board.wait_started(1));
    f.board.at(0)->complete(http::Response::text(200, "text/plain", "twelve bytes"));
    auto r = c.receive(true);
    CHECK(r.status_line == "HTTP/1.1 200 OK");
    CHECK(r.headers.at("content-length") == "12");
    CHECK(r.headers.at("connection") == "Keep-Alive");
    c.send(get("/fast"));
    r = c.receive();  // would read "twelve bytes" first if the body had been sent
    CHECK(r.status_line == "HTTP/1.1 200 OK");
    CHECK(r.body == "fast");
    CHECK(eventually([&] { return requests(f.registry, "/wait", "200", "HEAD") == 1; }));
  }
  SECTION("Connection: close") {
    Client c(f.port());
    c.send(get("/wait", "Connection: close\r\n"));
    REQUIRE(f.board.wait_started(1));
    f.board.at(0)->complete(http::Response::text(200, "text/plain", "bye"));
    auto r = c.receive();
    CHECK(r.body == "bye");
    CHECK(r.headers.at("connection") == "Close");
    CHECK(c.at_eof());
  }
  SECTION("HTTP/1.0 without keep-alive") {
    Client c(f.port());
    c.send("GET /wait HTTP/1.0\r\n\r\n");
    REQUIRE(f.board.wait_started(1));
    f.board.at(0)->complete(http::Response::text(200, "text/plain", "old"));
    auto r = c.receive();
    CHECK(r.status_line == "HTTP/1.0 200 OK");
    CHECK(r.body == "old");
    CHECK(c.at_eof());
  }
  SECTION("204 has no body") {
    Client c(f.port());
    c.send(get("/wait"));
    REQUIRE(f.board.wait_started(1));
    f.board.at(0)->complete(http::Response::text(204, "text/plain", "ignored"));
    auto r = c.receive();
    CHECK(r.status_line == "HTTP/1.1 204 No Content");
    CHECK(r.body.empty());
    c.send(get("/fast"));
    CHECK(c.receive().body == "fast");
  }
}

TEST_CASE("a pipelined request behind a deferred one is never answered out of order",
          "[http][deferred]") {
  Fixture f;
  Client c(f.port());
  c.send(get("/wait") + get("/fast"));
  REQUIRE(f.board.wait_started(1));
  f.board.at(0)->complete(http::Response::text(200, "text/plain", "first"));
  auto r = c.receive();
  CHECK(r.body == "first");
  // Either the connection was closed (the second request was already read
  // into Poco's buffer) or the second request is answered after the first.
  auto second = c.receive();
  if (!second.closed) {
    CHECK(second.body == "fast");
  } else {
    CHECK(r.headers.at("connection") == "Close");
  }
}

TEST_CASE("a large deferred response reaches a slow reader intact", "[http][deferred]") {
  Fixture f;
  Client c(f.port());
  c.send(get("/wait"));
  REQUIRE(f.board.wait_started(1));
  std::string big(8 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  f.board.at(0)->complete(http::Response::text(200, "application/octet-stream", big));
  std::this_thread::sleep_for(300ms);  // the kernel buffers fill; the loop waits for EPOLLOUT
  CHECK(f.server.parked() == 1);       // still writing
  auto r = c.receive();
  CHECK(r.body.size() == big.size());
  CHECK(r.body == big);
  CHECK(eventually([&] { return f.server.parked() == 0; }));
  c.send(get("/fast"));
  CHECK(c.receive().body == "fast");
}

TEST_CASE("max_parked refuses further deferred responses with 503", "[http][deferred]") {
  auto o = options();
  o.max_parked = 2;
  Fixture f(OnCancel::answer, o);
  Client a(f.port());
  Client b(f.port());
  a.send(get("/wait"));
  REQUIRE(f.board.wait_started(1));
  b.send(get("/wait"));
  REQUIRE(f.board.wait_started(2));
  CHECK_FALSE(f.server.can_park());
  Client c(f.port());
  c.send(get("/wait"));
  auto r = c.receive();
  CHECK(r.status_line == "HTTP/1.1 503 Service Unavailable");
  CHECK_THAT(r.body, Catch::Contains("M_LIMIT_EXCEEDED"));
  CHECK(r.headers.at("retry-after") == "1");
  CHECK(f.registry.render().find("eltrix_http_parked_requests_limit 2\n") != std::string::npos);
  f.board.at(0)->complete(http::Response::text(200, "text/plain", "a"));
  CHECK(a.receive().body == "a");
  CHECK(eventually([&] { return f.server.can_park(); }));
  c.send(get("/wait"));
  REQUIRE(f.board.wait_started(3));
  f.board.at(1)->complete(http::Response::text(200, "text/plain", "b"));
  f.board.at(2)->complete(http::Response::text(200, "text/plain", "c"));
  CHECK(b.receive().body == "b");
  CHECK(c.receive().body == "c");
}

TEST_CASE("an idle connection after a deferred response closes after the keep-alive timeout",
          "[http][deferred]") {
  auto o = options();
  o.keep_alive_timeout = std::chrono::seconds(1);
  Fixture f(OnCancel::answer, o);
  Client c(f.port());
  c.send(get("/immediate"));
  CHECK(c.receive().status_line == "HTTP/1.1 200 OK");
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(c.at_eof());
  CHECK(std::chrono::steady_clock::now() - t0 < 8s);
}

TEST_CASE("complete() after the server is gone is ignored", "[http][deferred]") {
  std::function<void(http::Response)> complete;
  {
    Fixture f(OnCancel::ignore);
    Client c(f.port());
    c.send(get("/wait"));
    REQUIRE(f.board.wait_started(1));
    complete = f.board.at(0)->completer();
    f.server.stop_accepting();
    CHECK_FALSE(f.server.drain(100ms));
  }
  complete(http::Response::text(200, "text/plain", "too late"));  // no crash, no effect
}
