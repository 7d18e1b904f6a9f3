#include "http/server.h"
#include "metrics/registry.h"
#include "unit/http/test_client.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <regex>
#include <thread>

using namespace eltrix;
using test::HttpResult;
using test::RequestSpec;

namespace {

Poco::JSON::Object::Ptr parse(const std::string& body) {
  Poco::JSON::Parser parser;
  return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
}

/// Reads one HTTP response (headers and a Content-Length body) from a raw socket.
std::string read_response(Poco::Net::StreamSocket& s) {
  std::string data;
  char buf[4096];
  while (true) {
    const auto head_end = data.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      std::size_t length = 0;
      const auto lower = test::lower(data.substr(0, head_end));
      const auto cl = lower.find("content-length: ");
      if (cl != std::string::npos) length = std::stoul(lower.substr(cl + 16));
      if (data.size() >= head_end + 4 + length) return data.substr(0, head_end + 4 + length);
    }
    const int n = s.receiveBytes(buf, sizeof(buf));
    if (n <= 0) return data + "<closed>";
    data.append(buf, static_cast<std::size_t>(n));
  }
}

std::string errcode(const HttpResult& r) {
  return parse(r.body)->getValue<std::string>("errcode");
}

http::ServerOptions local_options() {
  http::ServerOptions o;
  o.bind_address = "127.0.0.1";
  o.port = 0;
  o.workers = 4;
  o.max_body_bytes = 64 * 1024;
  o.keep_alive_timeout = std::chrono::seconds(10);
  return o;
}

/// A gate a handler waits on, so a test controls when a request finishes.
struct Gate {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  int waiting = 0;
  void wait() {
    std::unique_lock lock(m);
    ++waiting;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  }
  void wait_for_waiter() {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return waiting > 0; });
  }
  void release() {
    std::lock_guard lock(m);
    open = true;
    cv.notify_all();
  }
};

http::Router test_router(std::atomic<int>& handler_calls) {
  http::Router router;
  router.add("GET", "/_matrix/client/v3/rooms/{roomId}/state/{eventType}", [](http::Request& req) {
    Poco::JSON::Object o;
    o.set("roomId", std::string(req.path_param("roomId")));
    o.set("eventType", std::string(req.path_param("eventType")));
    o.set("path", req.path());
    o.set("limit", req.query("limit").value_or("none"));
    o.set("filter", req.query("filter").value_or("none"));
    o.set("request_id", req.request_id());
    return http::Response::json(200, o);
  });
  // A literal segment beats a parameter in the same position.
  router.add("GET", "/_matrix/client/v3/rooms/{roomId}/state/m.literal",
             [](http::Request&) { return http::Response::json_text(200, R"({"literal":true})"); });
  router.add("PUT", "/echo/json",
             [&handler_calls](http::Request& req) {
               ++handler_calls;
               nlohmann::json o = {{"got", req.json()},
                                   {"content_type", req.header("content-type").value_or("")}};
               return http::Response::json(200, o);
             },
             {.body = http::BodyMode::json});
  router.add("POST", "/echo/raw",
             [&handler_calls](http::Request& req) {
               ++handler_calls;
               return http::Response::text(200, "application/octet-stream", req.body());
             },
             {.body = http::BodyMode::raw, .max_body = 1000});
  router.add("POST", "/echo/stream",
             [&handler_calls](http::Request& req) {
               ++handler_calls;
               std::string all;
               char buf[300];
               auto& in = req.body_stream();
               while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
                 all.append(buf, static_cast<std::size_t>(in.gcount()));
               }
               return http::Response::text(200, "text/plain", std::to_string(all.size()));
             },
             {.body = http::BodyMode::stream, .max_body = 2000});
  router.add("GET", "/boom", [](http::Request&) -> http::Response {
    throw std::runtime_error("secret database password in this message");
  });
  router.add("GET", "/limited", [](http::Request&) -> http::Response {
    throw http::MatrixError(429, "M_LIMIT_EXCEEDED", "Too many requests")
        .with("retry_after_ms", 1500);
  });
  router.add("GET", "/items/{id}", [](http::Request& req) {
    return http::Response::text(200, "text/plain", "item " + std::string(req.path_param("id")));
  });
  router.add("DELETE", "/items/{id}",
             [](http::Request&) { return http::Response::json_text(200, "{}"); });
  return router;
}

struct Fixture {
  std::atomic<int> handler_calls{0};
  metrics::Registry registry;
  http::Router router = test_router(handler_calls);
  http::Server server{local_options(), router, registry};
  Fixture() { server.start(); }
  std::uint16_t port() const { return server.port(); }
};

double rejected(metrics::Registry& r, const std::string& reason) {
  return r
      .counter("eltrix_http_request_body_rejected_total", "Request bodies rejected, by reason.",
               {{"reason", reason}})
      .value();
}

double counter_value(metrics::Registry& r, const std::string& method, const std::string& route,
                     const std::string& status) {
  return r
      .counter("eltrix_http_requests_total",
               "HTTP requests served, by method, route pattern and status.",
               {{"method", method}, {"route", route}, {"status", status}})
      .value();
}

}  // namespace

TEST_CASE("router matches patterns with decoded parameters and queries", "[http]") {
  Fixture f;
  auto r = test::get(f.port(),
                     "/_matrix/client/v3/rooms/%21abc%3Aexample.org/state/m.room.name"
                     "?limit=10&filter=%7B%22a%22%3A1%7D&x");
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type") == "application/json");
  auto o = parse(r.body);
  CHECK(o->getValue<std::string>("roomId") == "!abc:example.org");
  CHECK(o->getValue<std::string>("eventType") == "m.room.name");
  CHECK(o->getValue<std::string>("path") ==
        "/_matrix/client/v3/rooms/!abc:example.org/state/m.room.name");
  CHECK(o->getValue<std::string>("limit") == "10");
  CHECK(o->getValue<std::string>("filter") == R"({"a":1})");

  // An encoded slash stays inside its segment.
  r = test::get(f.port(), "/_matrix/client/v3/rooms/a%2Fb/state/type%20with%20space");
  REQUIRE(r.status == 200);
  o = parse(r.body);
  CHECK(o->getValue<std::string>("roomId") == "a/b");
  CHECK(o->getValue<std::string>("eventType") == "type with space");

  r = test::get(f.port(), "/_matrix/client/v3/rooms/!r:x/state/m.literal");
  REQUIRE(r.status == 200);
  CHECK(r.body == R"({"literal":true})");

  r = test::get(f.port(), "/items/42");
  CHECK(r.status == 200);
  CHECK(r.body == "item 42");
  CHECK(r.header("content-type") == "text/plain");
}

TEST_CASE("unknown paths give 404 and wrong methods 405 with M_UNRECOGNIZED", "[http]") {
  Fixture f;
  auto r = test::get(f.port(), "/_matrix/client/v3/nothing_here");
  CHECK(r.status == 404);
  auto o = parse(r.body);
  CHECK(o->getValue<std::string>("errcode") == "M_UNRECOGNIZED");
  CHECK(o->getValue<std::string>("error") == "Unrecognized request");
  // Extra or missing segments, empty parameters and trailing slashes are unknown too.
  CHECK(test::get(f.port(), "/items/42/extra").status == 404);
  CHECK(test::get(f.port(), "/items/").status == 404);
  CHECK(test::get(f.port(), "/items").status == 404);

  RequestSpec spec;
  spec.method = "POST";
  spec.uri = "/items/42";
  spec.body = "{}";
  r = test::request(f.port(), spec);
  CHECK(r.status == 405);
  CHECK(errcode(r) == "M_UNRECOGNIZED");
  CHECK_THAT(r.header("allow"), Catch::Contains("GET") && Catch::Contains("DELETE"));

  spec.method = "DELETE";
  spec.body.clear();
  CHECK(test::request(f.port(), spec).status == 200);
}

TEST_CASE("invalid percent-encoding in the path is rejected", "[http]") {
  Fixture f;
  for (const char* bad : {"/items/%zz", "/items/abc%4", "/items/%00"}) {
    auto r = test::get(f.port(), bad);
    INFO(bad);
    CHECK(r.status == 400);
    CHECK(errcode(r) == "M_UNRECOGNIZED");
  }
  auto r = test::get(f.port(), "/items/1?x=%g1");
  CHECK(r.status == 400);
  CHECK(errcode(r) == "M_INVALID_PARAM");
}

TEST_CASE("JSON bodies: M_NOT_JSON, M_BAD_JSON and a parsed object", "[http]") {
  Fixture f;
  RequestSpec spec;
  spec.method = "PUT";
  spec.uri = "/echo/json";
  spec.headers = {{"Content-Type", "application/json"}};

  spec.body = R"({"msgtype":"m.text","body":"hi ✓","n":[1,2]})";
  auto r = test::request(f.port(), spec);
  REQUIRE(r.status == 200);
  auto got = parse(r.body)->getObject("got");
  CHECK(got->getValue<std::string>("body") == "hi ✓");
  CHECK(got->getArray("n")->size() == 2);
  CHECK(parse(r.body)->getValue<std::string>("content_type") == "application/json");

  spec.body = "{not json";
  r = test::request(f.port(), spec);
  CHECK(r.status == 400);
  CHECK(errcode(r) == "M_NOT_JSON");

  spec.body.clear();
  spec.send_body = true;
  r = test::request(f.port(), spec);
  CHECK(r.status == 400);
  CHECK(errcode(r) == "M_NOT_JSON");

  for (const char* not_object : {"[1,2,3]", "\"text\"", "42", "null"}) {
    spec.body = not_object;
    r = test::request(f.port(), spec);
    INFO(not_object);
    CHECK(r.status == 400);
    CHECK(errcode(r) == "M_BAD_JSON");
  }
  CHECK(f.handler_calls == 1);

  // Deep nesting is refused, not a stack overflow.
  spec.body = std::string(5000, '[') + std::string(5000, ']');
  r = test::request(f.port(), spec);
  CHECK(r.status == 400);

  CHECK(rejected(f.registry, "bad_json") == 4);
  CHECK(rejected(f.registry, "not_json") == 3);
}

TEST_CASE("body limits: 413 from Content-Length and from chunked bodies", "[http]") {
  Fixture f;
  RequestSpec spec;
  spec.method = "POST";
  spec.uri = "/echo/raw";  // max_body 1000

  spec.body = std::string(1000, 'a');
  auto r = test::request(f.port(), spec);
  CHECK(r.status == 200);
  CHECK(r.body == spec.body);

  spec.body = std::string(1001, 'b');
  r = test::request(f.port(), spec);
  CHECK(r.status == 413);
  CHECK(errcode(r) == "M_TOO_LARGE");
  CHECK(r.header("connection") == "Close");

  spec.chunked = true;
  spec.body = std::string(999, 'c');
  r = test::request(f.port(), spec);
  CHECK(r.status == 200);
  CHECK(r.body == spec.body);

  spec.body = std::string(5000, 'd');
  r = test::request(f.port(), spec);
  CHECK(r.status == 413);
  CHECK(errcode(r) == "M_TOO_LARGE");
  CHECK(f.handler_calls == 2);  // never called for the rejected bodies

  // The server default applies to routes without their own limit (64 KiB here).
  RequestSpec json;
  json.method = "PUT";
  json.uri = "/echo/json";
  json.body = "{\"x\":\"" + std::string(70 * 1024, 'x') + "\"}";
  r = test::request(f.port(), json);
  CHECK(r.status == 413);

  // Streamed bodies: the handler's stream stops at the limit (2000) and the
  // server answers 413 for a chunked body beyond it.
  RequestSpec stream;
  stream.method = "POST";
  stream.uri = "/echo/stream";
  stream.chunked = true;
  stream.body = std::string(1500, 's');
  r = test::request(f.port(), stream);
  CHECK(r.status == 200);
  CHECK(r.body == "1500");
  stream.body = std::string(2500, 's');
  r = test::request(f.port(), stream);
  CHECK(r.status == 413);
  stream.chunked = false;
  r = test::request(f.port(), stream);
  CHECK(r.status == 413);

  CHECK(rejected(f.registry, "too_large") == 5);
}

TEST_CASE("errors: MatrixError JSON, 500 hides the detail", "[http]") {
  Fixture f;
  auto r = test::get(f.port(), "/boom");
  CHECK(r.status == 500);
  CHECK(errcode(r) == "M_UNKNOWN");
  CHECK(r.body.find("secret") == std::string::npos);
  CHECK(r.body.find("password") == std::string::npos);

  r = test::get(f.port(), "/limited");
  CHECK(r.status == 429);
  auto o = parse(r.body);
  CHECK(o->getValue<std::string>("errcode") == "M_LIMIT_EXCEEDED");
  CHECK(o->getValue<std::string>("error") == "Too many requests");
  CHECK(o->getValue<int>("retry_after_ms") == 1500);
}

TEST_CASE("request IDs are accepted, generated and echoed", "[http]") {
  Fixture f;
  const std::string uri = "/_matrix/client/v3/rooms/r/state/t";
  RequestSpec spec;
  spec.uri = uri;
  spec.headers = {{"X-Request-ID", "client-id_1.2"}};
  auto r = test::request(f.port(), spec);
  CHECK(r.header("x-request-id") == "client-id_1.2");
  CHECK(parse(r.body)->getValue<std::string>("request_id") == "client-id_1.2");

  const std::regex generated("[0-9a-f]{16}");
  for (const std::string& bad :
       {std::string("has space"), std::string(65, 'a'), std::string("x;y")}) {
    spec.headers = {{"X-Request-ID", bad}};
    r = test::request(f.port(), spec);
    INFO(bad);
    CHECK(std::regex_match(r.header("x-request-id"), generated));
    CHECK(parse(r.body)->getValue<std::string>("request_id") == r.header("x-request-id"));
  }
  auto a = test::get(f.port(), uri);
  auto b = test::get(f.port(), uri);
  CHECK(std::regex_match(a.header("x-request-id"), generated));
  CHECK(a.header("x-request-id") != b.header("x-request-id"));
  // Errors carry it too.
  CHECK(std::regex_match(test::get(f.port(), "/nope").header("x-request-id"), generated));
}

TEST_CASE("CORS headers on every response and OPTIONS on any path", "[http]") {
  Fixture f;
  RequestSpec spec;
  spec.method = "OPTIONS";
  spec.uri = "/_matrix/client/v3/login";  // not even a route here
  spec.headers = {{"Origin", "https://app.element.io"},
                  {"Access-Control-Request-Method", "POST"},
                  {"Access-Control-Request-Headers", "authorization, content-type"}};
  auto r = test::request(f.port(), spec);
  CHECK((r.status == 204 || r.status == 200));
  CHECK(r.header("access-control-allow-origin") == "*");
  CHECK(r.header("access-control-allow-methods") == "GET, HEAD, POST, PUT, DELETE, OPTIONS");
  CHECK(r.header("access-control-allow-headers") ==
        "X-Requested-With, Content-Type, Authorization");

  spec.uri = "/items/1";
  CHECK(test::request(f.port(), spec).status == 204);

  for (const char* uri : {"/items/1", "/nope", "/boom"}) {
    r = test::get(f.port(), uri);
    INFO(uri);
    CHECK(r.header("access-control-allow-origin") == "*");
    CHECK(r.header("access-control-allow-headers") ==
          "X-Requested-With, Content-Type, Authorization");
  }
}

TEST_CASE("HEAD is served by GET routes without a body", "[http]") {
  Fixture f;
  RequestSpec spec;
  spec.method = "HEAD";
  spec.uri = "/items/12345";
  auto r = test::request(f.port(), spec);
  CHECK(r.status == 200);
  CHECK(r.header("content-length") == "10");  // "item 12345"
  CHECK(r.body.empty());
}

TEST_CASE("keep-alive connections serve several requests, with unread bodies dropped", "[http]") {
  Fixture f;
  // A raw socket, so a reconnect could not hide a closed connection.
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", f.port()));
  s.setReceiveTimeout(Poco::Timespan(5, 0));
  const auto exchange = [&s](const std::string& request) {
    s.sendBytes(request.data(), static_cast<int>(request.size()));
    return read_response(s);
  };
  CHECK_THAT(exchange("GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n"), Catch::EndsWith("item 1"));
  // A body sent to a route that ignores it, and to an unknown path, is discarded.
  CHECK_THAT(exchange("DELETE /items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n"
                      "ignored body"),
             Catch::StartsWith("HTTP/1.1 200"));
  CHECK_THAT(exchange("GET /items/2 HTTP/1.1\r\nHost: x\r\n\r\n"), Catch::EndsWith("item 2"));
  // A POST without Content-Length or chunking has no body (it must not wait for one).
  CHECK_THAT(exchange("POST /nope HTTP/1.1\r\nHost: x\r\n\r\n"), Catch::StartsWith("HTTP/1.1 404"));
  CHECK_THAT(exchange("GET /items/3 HTTP/1.1\r\nHost: x\r\n\r\n"), Catch::EndsWith("item 3"));
  // A chunked body is answered, but its connection is not reused: Poco cannot
  // tell a malformed chunk from the end of the body.
  const auto chunked = exchange(
      "POST /nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\n");
  CHECK_THAT(chunked, Catch::StartsWith("HTTP/1.1 404"));
  CHECK_THAT(chunked, Catch::Contains("Connection: Close"));
  s = Poco::Net::StreamSocket(Poco::Net::SocketAddress("127.0.0.1", f.port()));
  s.setReceiveTimeout(Poco::Timespan(5, 0));
  // A malformed Content-Length ends the connection (Poco refuses it before routing).
  const auto bad =
      exchange("PUT /echo/json HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n{}");
  CHECK((bad.rfind("HTTP/1.1 400", 0) == 0 || bad == "<closed>"));
}

TEST_CASE("a worker waiting for a client's next request never holds up another client", "[http]") {
  std::atomic<int> calls{0};
  metrics::Registry registry;
  const http::Router router = test_router(calls);
  auto options = local_options();
  options.workers = 2;
  // Long enough that a request held up by the wait would show.
  options.next_request_wait = std::chrono::seconds(5);
  http::Server server(options, router, registry);
  server.start();
  const auto connect = [&] {
    Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", server.port()));
    s.setReceiveTimeout(Poco::Timespan(5, 0));
    return s;
  };
  const auto exchange = [](Poco::Net::StreamSocket& s, const std::string& request) {
    s.sendBytes(request.data(), static_cast<int>(request.size()));
    return read_response(s);
  };
  const auto timed = [&](Poco::Net::StreamSocket& s, const std::string& request) {
    const auto start = std::chrono::steady_clock::now();
    const std::string response = exchange(s, request);
    CHECK_THAT(response, Catch::StartsWith("HTTP/1.1 200"));
    return std::chrono::steady_clock::now() - start;
  };
  const std::string get = "GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n";
  auto a = connect();
  auto b = connect();
  auto c = connect();
  // A's worker may now wait for A's next request (the other one is free).
  CHECK(timed(a, get) < std::chrono::seconds(1));
  // B is served by the other worker; that one does not wait after it (no
  // worker would be left), so C is served at once too, and so is A's next
  // request, which its waiting worker (or the parking lot) picks up.
  CHECK(timed(b, get) < std::chrono::seconds(1));
  CHECK(timed(c, get) < std::chrono::seconds(1));
  CHECK(timed(a, get) < std::chrono::seconds(1));
  // A head that arrives in parts ends the wait; the parking lot serves it
  // once it is whole.
  a.sendBytes("GET /items/2 HTTP/1.1\r\n", 23);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_THAT(exchange(a, "Host: x\r\n\r\n"), Catch::EndsWith("item 2"));
  CHECK(timed(b, get) < std::chrono::seconds(1));
}

TEST_CASE("metrics count requests by route pattern", "[http]") {
  Fixture f;
  for (int i = 0; i < 3; ++i)
    CHECK(test::get(f.port(), "/items/" + std::to_string(i)).status == 200);
  CHECK(test::get(f.port(), "/nope/1").status == 404);
  CHECK(test::get(f.port(), "/nope/2").status == 404);
  CHECK(test::get(f.port(), "/boom").status == 500);

  for (int i = 0; i < 500 && f.server.in_flight() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  CHECK(counter_value(f.registry, "GET", "/items/{id}", "200") == 3);
  CHECK(counter_value(f.registry, "GET", "unmatched", "404") == 2);
  CHECK(counter_value(f.registry, "GET", "/boom", "500") == 1);

  const std::string text = f.registry.render();
  CHECK(
      text.find(
          "eltrix_http_requests_total{method=\"GET\",route=\"/items/{id}\",status=\"200\"} 3\n") !=
      std::string::npos);
  CHECK(
      text.find(
          "eltrix_http_request_duration_seconds_count{method=\"GET\",route=\"/items/{id}\"} 3\n") !=
      std::string::npos);
  CHECK(text.find("/items/0") == std::string::npos);  // never the raw path
  CHECK(text.find("eltrix_http_requests_in_flight 0\n") != std::string::npos);
  CHECK(text.find("eltrix_http_worker_threads 4\n") != std::string::npos);
  CHECK(text.find("eltrix_http_connections_queued 0\n") != std::string::npos);
  CHECK(text.find("# TYPE eltrix_http_request_body_rejected_total counter\n") != std::string::npos);

  auto [status, output] = test::promtool_check(text);
  INFO(text);
  INFO(output);
  CHECK(status == 0);
}

TEST_CASE("the access log has no query string and no Authorization", "[http]") {
  char path[] = "/tmp/eltrix-http-log-XXXXXX";
  const int log_fd = mkstemp(path);
  REQUIRE(log_fd >= 0);
  std::fflush(stderr);
  const int saved = dup(2);
  dup2(log_fd, 2);
  std::string log;
  {
    Fixture f;
    RequestSpec spec;
    spec.uri = "/items/7?access_token=syt_very_secret_token";
    spec.headers = {{"Authorization", "Bearer syt_other_secret"}, {"X-Request-ID", "log-test-1"}};
    CHECK(test::request(f.port(), spec).status == 200);
    // The line is written just after the response; give it a moment.
    for (int i = 0; i < 100 && log.find("log-test-1") == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      std::ifstream in(path);
      log.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(log_fd);
  std::remove(path);
  INFO(log);
  CHECK(log.find("request_id=log-test-1") != std::string::npos);
  CHECK(log.find("path=/items/7 ") != std::string::npos);
  CHECK(log.find("route=/items/{id}") != std::string::npos);
  CHECK(log.find("status=200") != std::string::npos);
  CHECK(log.find("duration_ms=") != std::string::npos);
  CHECK(log.find("bytes=6") != std::string::npos);
  CHECK(log.find("secret") == std::string::npos);
  CHECK(log.find("access_token") == std::string::npos);
}

namespace {

/// GET /slow waits for the gate; GET /fast answers at once.
http::Router slow_and_fast_routes(Gate& gate) {
  http::Router router;
  router.add("GET", "/slow", [&gate](http::Request&) {
    gate.wait();
    return http::Response::text(200, "text/plain", "done");
  });
  router.add("GET", "/fast",
             [](http::Request&) { return http::Response::text(200, "text/plain", "fast"); });
  return router;
}

}  // namespace

TEST_CASE("drain finishes in-flight requests and refuses new connections", "[http]") {
  metrics::Registry registry;
  Gate gate;
  http::Router router = slow_and_fast_routes(gate);
  http::Server server(local_options(), router, registry);
  server.start();
  const auto port = server.port();

  // An idle keep-alive connection, opened before draining.
  Poco::Net::StreamSocket idle(Poco::Net::SocketAddress("127.0.0.1", port));
  const std::string fast = "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n";
  idle.sendBytes(fast.data(), static_cast<int>(fast.size()));
  idle.setReceiveTimeout(Poco::Timespan(5, 0));
  char buf[4096];
  const int n = idle.receiveBytes(buf, sizeof(buf));
  REQUIRE(n > 0);
  CHECK(std::string(buf, static_cast<std::size_t>(n)).find("fast") != std::string::npos);

  auto slow = std::async(std::launch::async, [port] { return test::get(port, "/slow"); });
  gate.wait_for_waiter();
  CHECK(server.in_flight() == 1);
  CHECK(registry.gauge("eltrix_http_requests_in_flight", "HTTP requests being handled right now.")
            .value() == 1);

  const auto t0 = std::chrono::steady_clock::now();
  server.stop_accepting();
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));  // does not wait
  CHECK(server.draining());

  // New connections are refused.
  CHECK_THROWS_AS(test::get(port, "/fast"), Poco::Net::ConnectionRefusedException);

  // The idle keep-alive connection is closed by the server (EOF).
  const int eof = idle.receiveBytes(buf, sizeof(buf));
  CHECK(eof == 0);

  CHECK_FALSE(server.drain(std::chrono::milliseconds(200)));  // still in flight
  gate.release();
  CHECK(server.drain(std::chrono::seconds(5)));
  CHECK(server.in_flight() == 0);
  auto r = slow.get();
  CHECK(r.status == 200);
  CHECK(r.body == "done");
  CHECK(r.header("connection") == "Close");  // no further requests on it
}

TEST_CASE("a keep-alive connection closes after its current request once draining", "[http]") {
  metrics::Registry registry;
  Gate gate;
  http::Router router = slow_and_fast_routes(gate);
  http::Server server(local_options(), router, registry);
  server.start();

  Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", server.port()));
  s.setReceiveTimeout(Poco::Timespan(5, 0));
  // Two pipelined requests: the first is in flight when draining starts, the
  // second must never be served.
  const std::string requests =
      "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n";
  s.sendBytes(requests.data(), static_cast<int>(requests.size()));
  gate.wait_for_waiter();
  server.stop_accepting();
  gate.release();

  std::string received;
  char buf[4096];
  while (true) {
    const int n = s.receiveBytes(buf, sizeof(buf));
    if (n <= 0) break;  // the server closed the connection
    received.append(buf, static_cast<std::size_t>(n));
  }
  INFO(received);
  CHECK(received.find("done") != std::string::npos);
  CHECK(received.find("fast") == std::string::npos);
  CHECK(server.drain(std::chrono::seconds(5)));
}

TEST_CASE("server with routes from several threads under load", "[http]") {
  Fixture f;
  std::vector<std::future<int>> results;
  for (int t = 0; t < 8; ++t) {
    results.push_back(std::async(std::launch::async, [&f, t] {
      int ok = 0;
      Poco::Net::HTTPClientSession session("127.0.0.1", f.port());
      session.setTimeout(Poco::Timespan(10, 0));
      for (int i = 0; i < 25; ++i) {
        RequestSpec spec;
        spec.uri = "/items/" + std::to_string(t * 100 + i);
        if (test::send(session, spec).body == "item " + std::to_string(t * 100 + i)) ++ok;
      }
      return ok;
    }));
  }
  int total = 0;
  for (auto& r : results) total += r.get();
  CHECK(total == 200);
  CHECK(counter_value(f.registry, "GET", "/items/{id}", "200") == 200);
}

TEST_CASE("a full connection queue refuses new connections with 503 and shows in metrics",
          "[http]") {
  metrics::Registry registry;
  Gate gate;
  http::Router router;
  router.add("GET", "/slow", [&gate](http::Request&) {
    gate.wait();
    return http::Response::text(200, "text/plain", "done");
  });
  auto options = local_options();
  options.workers = 1;
  options.max_queued = 1;
  http::Server server(options, router, registry);
  server.start();
  const auto port = server.port();

  auto busy = std::async(std::launch::async, [port] { return test::get(port, "/slow"); });
  gate.wait_for_waiter();  // the only worker is busy

  // The next connection waits in the queue...
  Poco::Net::StreamSocket queued(Poco::Net::SocketAddress("127.0.0.1", port));
  const std::string req = "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  queued.sendBytes(req.data(), static_cast<int>(req.size()));
  auto value = [&registry](const std::string& line_start) {
    const std::string text = registry.render();
    const auto p = text.find("\n" + line_start + " ");
    return p == std::string::npos ? -1.0 : std::stod(text.substr(p + line_start.size() + 2));
  };
  for (int i = 0; i < 200 && value("eltrix_http_connections_queued") != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(value("eltrix_http_connections_queued") == 1);
  CHECK(value("eltrix_http_connections_queue_limit") == 1);
  CHECK(value("eltrix_http_worker_threads") == 1);

  // ...and the one after is answered 503 at once, without a worker (its
  // head is read by the poller).
  Poco::Net::StreamSocket refused(Poco::Net::SocketAddress("127.0.0.1", port));
  refused.setReceiveTimeout(Poco::Timespan(5, 0));
  refused.sendBytes(req.data(), static_cast<int>(req.size()));
  char buf[512];
  const int n = refused.receiveBytes(buf, sizeof(buf));
  REQUIRE(n > 0);
  const std::string answer(buf, static_cast<std::size_t>(n));
  CHECK(answer.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(answer.find("M_LIMIT_EXCEEDED") != std::string::npos);
  for (int i = 0; i < 200 && value("eltrix_http_connections_refused_total") != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(value("eltrix_http_connections_refused_total") == 1);

  gate.release();
  CHECK(busy.get().status == 200);
  queued.setReceiveTimeout(Poco::Timespan(5, 0));
  const int got = queued.receiveBytes(buf, sizeof(buf));
  REQUIRE(got > 0);
  CHECK(std::string(buf, static_cast<std::size_t>(got)).rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("a body cut off before its Content-Length fails the stream and is answered 400",
          "[http]") {
  Fixture f;
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", f.port()));
  socket.setReceiveTimeout(Poco::Timespan(10, 0));
  const std::string head =
      "POST /echo/stream HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\n0123456789";
  socket.sendBytes(head.data(), static_cast<int>(head.size()));
  socket.shutdownSend();  // the client goes away after 10 of its 1000 bytes
  std::string response;
  char buf[1024];
  for (int n = 0; (n = socket.receiveBytes(buf, sizeof(buf))) > 0;) response.append(buf, n);
  CHECK(response.rfind("HTTP/1.1 400", 0) == 0);
  CHECK_THAT(response, Catch::Matchers::Contains("cut off before its end"));
  CHECK(f.handler_calls == 1);  // the handler ran and saw its stream fail
}

TEST_CASE("a chunked body cut off mid-chunk fails the stream; a whole one does not", "[http]") {
  Fixture f;
  const auto exchange = [&f](const std::string& bytes) {
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", f.port()));
    socket.setReceiveTimeout(Poco::Timespan(10, 0));
    socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
    socket.shutdownSend();  // the client hangs up after these bytes
    std::string response;
    char buf[1024];
    for (int n = 0; (n = socket.receiveBytes(buf, sizeof(buf))) > 0;) response.append(buf, n);
    return response;
  };
  const std::string head =
      "POST /echo/stream HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n";
  // 0x64 = 100 bytes announced, 10 sent: Poco 1.11 alone would call this the end.
  std::string response = exchange(head + "64\r\n0123456789");
  CHECK(response.rfind("HTTP/1.1 400", 0) == 0);
  CHECK_THAT(response, Catch::Matchers::Contains("cut off before its end"));
  // Cut between two chunks, before the last (zero-size) one.
  response = exchange(head + "a\r\n0123456789\r\n");
  CHECK(response.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(f.handler_calls == 2);

  // A client that sends the last chunk and waits for its answer is served.
  RequestSpec whole;
  whole.method = "POST";
  whole.uri = "/echo/stream";
  whole.chunked = true;
  whole.body = std::string(700, 'w');
  auto r = test::request(f.port(), whole);
  CHECK(r.status == 200);
  CHECK(r.body == "700");
}

TEST_CASE("a connection that carried a chunked body is not reused", "[http]") {
  Fixture f;
  RequestSpec spec;
  spec.method = "POST";
  spec.uri = "/echo/raw";
  spec.chunked = true;
  spec.body = "abc";
  auto r = test::request(f.port(), spec);
  CHECK(r.status == 200);
  CHECK(r.header("connection") == "Close");
}
