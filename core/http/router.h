// Requests, responses and the route table of the HTTP server.
//
//   router.add("PUT", "/_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}",
//              [](http::Request& req) {
//                auto room = req.path_param("roomId");  // percent-decoded
//                ...
//                return http::Response::json(200, result);
//              },
//              {.body = http::BodyMode::json});
//
// Patterns are matched segment by segment against the percent-decoded path, so
// "%2F" inside a segment never splits it. A literal segment wins over a
// parameter at the same position. "{name}" must be a whole segment and matches
// any non-empty segment. A pattern ending in "/" matches a path ending in "/"
// (its last segment is the empty literal).
#pragma once

#include "errors/error.h"
#include "http/deferred.h"
#include "http/error.h"

#include <Poco/JSON/Object.h>
#include <Poco/Net/NameValueCollection.h>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace Poco::Net {
class HTTPServerRequest;
}

namespace eltrix::http {

enum class BodyMode {
  none,    ///< the body is ignored (and discarded)
  json,    ///< read whole; must be a JSON object (400 M_NOT_JSON / M_BAD_JSON otherwise)
  raw,     ///< read whole into body()
  stream,  ///< the handler reads body_stream() (or raw().stream()) itself
};

/// Who may call a route. The HTTP server itself does not read access tokens:
/// whoever registers the routes applies this once, before the handler runs
/// (the Client-Server API in client/routes.cpp), and hands the handler the
/// caller through Request::requester().
enum class Auth {
  required,  ///< a valid access token: 401 M_MISSING_TOKEN / M_UNKNOWN_TOKEN otherwise
  optional,  ///< anonymous callers pass; a token, if given, must be valid
  admin,     ///< a valid access token of a server admin: 403 M_FORBIDDEN otherwise
  none,      ///< no token is read (login, registration, public endpoints)
};

struct RouteOptions {
  BodyMode body = BodyMode::none;
  std::size_t max_body = 0;  ///< 0: the server default (ServerOptions::max_body_bytes)
  /// Required unless a route says otherwise, so a new route that forgets is
  /// closed rather than open.
  Auth auth = Auth::required;
};

/// The authenticated user and device behind a request's access token.
struct Requester {
  std::string user_id;
  std::string device_id;
  bool admin = false;
};

class Request {
 public:
  using Pairs = std::vector<std::pair<std::string, std::string>>;

  /// Built by the server; handler unit tests can build one directly (raw may be null).
  Request(std::string method, std::string path, Pairs path_params, Pairs query,
          std::string request_id, Poco::Net::HTTPServerRequest* raw = nullptr);

  [[nodiscard]] const std::string& method() const { return method_; }
  /// Percent-decoded path, without the query string.
  [[nodiscard]] const std::string& path() const { return path_; }
  /// A "{name}" of the route pattern, percent-decoded. Throws std::out_of_range if
  /// the pattern has no such parameter (a programming error: 500).
  [[nodiscard]] std::string_view path_param(std::string_view name) const;
  /// First value of a query parameter, percent-decoded ('+' is a space).
  [[nodiscard]] std::optional<std::string> query(std::string_view name) const;
  /// All values of a query parameter, in order (e.g. repeated "types=").
  [[nodiscard]] std::vector<std::string> query_all(std::string_view name) const;
  /// Case-insensitive header lookup.
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
  /// BodyMode::raw and BodyMode::json.
  [[nodiscard]] const std::string& body() const { return body_; }
  /// BodyMode::json: always a JSON object.
  [[nodiscard]] const nlohmann::json& json() const { return json_; }
  [[nodiscard]] const std::string& request_id() const { return request_id_; }
  /// The caller, authenticated before the handler ran (RouteOptions::auth).
  /// Throws std::logic_error (a 500: a programming error) on a route that
  /// does not authenticate, or an optional one called without a token.
  [[nodiscard]] const Requester& requester() const;
  /// The caller if the request was authenticated, else null (Auth::optional).
  [[nodiscard]] const Requester* requester_if_any() const {
    return requester_ ? &*requester_ : nullptr;
  }
  void set_requester(Requester requester) { requester_ = std::move(requester); }
  /// The underlying Poco request. Throws std::logic_error if there is none.
  Poco::Net::HTTPServerRequest& raw();

  /// BodyMode::stream: the request body, cut off after the route's limit. When
  /// the client sends more than the limit, the stream ends early and
  /// body_too_large() turns true; the server then answers 413 M_TOO_LARGE
  /// whatever the handler returns (handlers should discard partial data).
  /// When the client disconnects before its Content-Length (or, for a chunked
  /// body, before the last chunk), the stream fails
  /// (badbit) and body_truncated() turns true; handlers must treat a failed
  /// stream as an aborted upload, and the server answers 400 and closes.
  std::istream& body_stream();
  [[nodiscard]] bool body_too_large() const;
  [[nodiscard]] bool body_truncated() const;

  // Used by the server and by tests.
  void set_body(std::string body) { body_ = std::move(body); }
  void set_json(nlohmann::json json) { json_ = std::move(json); }
  void set_header(const std::string& name, const std::string& value) { headers_.set(name, value); }
  /// `cut_off` is asked when a body of unknown length (chunked) ends: true
  /// means the client hung up rather than finished, so the body is truncated.
  void set_body_stream(std::istream* stream, std::size_t limit,
                       std::optional<std::size_t> expected = std::nullopt,
                       std::function<bool()> cut_off = {});
  ~Request();
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

 private:
  class LimitedBuf;
  std::string method_;
  std::string path_;
  Pairs params_;
  Pairs query_;
  std::string request_id_;
  std::optional<Requester> requester_;
  Poco::Net::HTTPServerRequest* raw_;
  Poco::Net::NameValueCollection headers_;  // only when raw_ is null
  std::string body_;
  nlohmann::json json_ = nlohmann::json::object();
  std::unique_ptr<LimitedBuf> limited_buf_;
  std::unique_ptr<std::istream> limited_stream_;
  std::unique_ptr<std::istream> empty_source_;
};

/// A response body produced while it is sent (a media download), so that a
/// large body never sits in memory: the server calls read() with its own
/// fixed-size buffer until `length` bytes went out. The headers (with
/// Content-Length: length) are already on the wire when read() runs, so a
/// source that throws or ends early cannot change the status; the server then
/// closes the connection, and the client sees a short body.
class StreamedBody {
 public:
  StreamedBody() = default;
  StreamedBody(const StreamedBody&) = delete;
  StreamedBody& operator=(const StreamedBody&) = delete;
  StreamedBody(StreamedBody&&) = delete;
  StreamedBody& operator=(StreamedBody&&) = delete;
  virtual ~StreamedBody() = default;
  /// Copies up to `capacity` bytes into `buffer`; 0 only at the end.
  virtual std::size_t read(char* buffer, std::size_t capacity) = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response json(int status, const Poco::JSON::Object& object);
  static Response json(int status, const nlohmann::json& value);
  static Response json_text(int status, std::string json);
  static Response text(int status, std::string content_type, std::string body);
  /// The Matrix error body for `error`, with its status.
  static Response error(const MatrixError& error);
  /// The Matrix error for a domain error (http/error_mapping.h); a transient
  /// one (503) carries Retry-After.
  static Response error(const errors::Error& error);
  /// Parks the request: the server frees the worker thread, calls d->start()
  /// and sends whatever response d completes with (see http/deferred.h). The
  /// server adds the same headers as for any response. Throws
  /// std::invalid_argument for a null `d`.
  static Response deferred(std::shared_ptr<Deferred> d);

  /// Set by deferred(); the other fields are then unused.
  std::shared_ptr<Deferred> deferral;

  /// Set by streamed(); `body` is then unused. A Deferred may complete with
  /// one: the server then sends it from a worker thread.
  std::shared_ptr<StreamedBody> streamed_body;
  std::uint64_t streamed_length = 0;
  /// A response whose `length`-byte body is read from `body` while sending.
  static Response streamed(int status, std::string content_type, std::shared_ptr<StreamedBody> body,
                           std::uint64_t length);
  /// Set by on_worker(); the other fields are then unused.
  std::function<Response()> continuation;
  /// A response to be built on a worker thread: for a Deferred whose answer
  /// needs blocking work (opening a media file) once it has waited without a
  /// thread. The server runs `build` on a worker (exceptions become error
  /// responses as for handlers) and sends its result. Throws
  /// std::invalid_argument for an empty `build`.
  static Response on_worker(std::function<Response()> build);
  /// Bytes of the body (streamed_length for a streamed response).
  [[nodiscard]] std::uint64_t body_size() const {
    return streamed_body ? streamed_length : body.size();
  }
};

using Handler = std::function<Response(Request&)>;

class Router {
 public:
  struct Route {
    std::string method;
    std::string pattern;
    Handler handler;
    RouteOptions options;
    /// (segment index, parameter name) for each "{name}" in the pattern.
    std::vector<std::pair<std::size_t, std::string>> params;
  };

  /// Throws std::invalid_argument for a malformed pattern (must start with '/',
  /// "{name}" must be a whole segment) or a method+pattern added twice.
  void add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});

  struct Match {
    const Route* route = nullptr;  ///< null: no route for this method
    bool path_known = false;       ///< some route matches the path (so 405, not 404)
    std::string allow;             ///< methods allowed on the path, comma-separated
    Request::Pairs params;         ///< decoded path parameters of `route`
  };
  /// Matches decoded path segments (for "/a/b": {"a","b"}). HEAD falls back to GET.
  [[nodiscard]] Match match(std::string_view method,
                            const std::vector<std::string>& segments) const;

  /// Match::route points into this vector; add() may invalidate it.
  [[nodiscard]] const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Node {
    std::vector<std::pair<std::string, std::size_t>> literals;  // segment -> node index
    std::size_t param = 0;                                      // 0: none (root is never a child)
    std::vector<std::size_t> routes;                            // indexes into routes_
  };
  void insert(std::size_t route_index, const std::vector<std::string>& segments);
  void collect(std::size_t node, const std::vector<std::string>& segments, std::size_t depth,
               std::vector<std::size_t>& found) const;

  std::vector<Route> routes_;
  std::vector<Node> nodes_{Node{}};
};

/// Splits "/a/b%2Fc/d" into decoded segments {"a", "b/c", "d"}. Returns false for
/// an invalid percent-encoding or a NUL byte (decoded or raw).
bool split_path(std::string_view raw_path, std::vector<std::string>& segments,
                std::string& decoded_path);
/// Decodes "%XX" (and '+' as a space when plus_is_space). False if invalid or
/// if the result would hold a NUL byte.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space);
/// Parses "a=1&b=x%20y" into decoded pairs. False if an encoding is invalid.
bool parse_query(std::string_view raw_query, Request::Pairs& out);

}  // namespace eltrix::http
