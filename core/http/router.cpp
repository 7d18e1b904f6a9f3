#include "http/router.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <fmt/format.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <streambuf>

namespace eltrix::http {

// ---------------------------------------------------------------------------
// MatrixError

MatrixError::MatrixError(int status, std::string errcode, const std::string& message)
    : std::runtime_error(message), status_(status), errcode_(std::move(errcode)) {}

MatrixError& MatrixError::with(std::string key, nlohmann::json value) {
  extra_.emplace_back(std::move(key), std::move(value));
  return *this;
}

nlohmann::json MatrixError::to_json() const {
  nlohmann::json object = {{"errcode", errcode_}, {"error", std::string(what())}};
  for (const auto& [k, v] : extra_) object[k] = v;
  return object;
}

// ---------------------------------------------------------------------------
// Response

Response Response::json(int status, const Poco::JSON::Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return json_text(status, out.str());
}

Response Response::json(int status, const nlohmann::json& value) {
  // Replace invalid UTF-8 instead of throwing: a response must always be sent.
  return json_text(status, value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Response Response::json_text(int status, std::string json) {
  Response r;
  r.status = status;
  r.body = std::move(json);
  return r;
}

Response Response::text(int status, std::string content_type, std::string body) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

Response Response::error(const MatrixError& error) {
  Response response = json(error.status(), error.to_json());
  // Every 429 that says when to come back also says it in the standard
  // header (RFC 9110 10.2.3), wherever it was thrown: proxies and generic
  // HTTP clients read the header, Matrix clients the body.
  for (const auto& [key, value] : error.extra()) {
    if (key == "retry_after_ms" && value.is_number_integer()) {
      const auto ms = value.get<std::int64_t>();
      response.headers.emplace_back("Retry-After",
                                    std::to_string(std::max<std::int64_t>(1, (ms + 999) / 1000)));
    }
  }
  return response;
}

Response Response::streamed(int status, std::string content_type,
                            std::shared_ptr<StreamedBody> body, std::uint64_t length) {
  if (!body) throw std::invalid_argument("http::Response::streamed: null body");
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.streamed_body = std::move(body);
  r.streamed_length = length;
  return r;
}

Response Response::deferred(std::shared_ptr<Deferred> d) {
  if (!d) throw std::invalid_argument("http::Response::deferred: null Deferred");
  Response r;
  r.deferral = std::move(d);
  return r;
}

Response Response::on_worker(std::function<Response()> build) {
  if (!build) throw std::invalid_argument("http::Response::on_worker: empty function");
  Response r;
  r.continuation = std::move(build);
  return r;
}

// ---------------------------------------------------------------------------
// Request

/// Hands out at most `limit` bytes of `source`; notes whether more were there,
/// and fails the stream (badbit) when the body was cut off: the source ends
/// before `expected` bytes, the source itself failed (a read timeout), or a
/// body of unknown length ended because the client hung up (`cut_off`).
class Request::LimitedBuf : public std::streambuf {
 public:
  LimitedBuf(std::istream& source, std::size_t limit, std::optional<std::size_t> expected,
             std::function<bool()> cut_off)
      : source_(source), limit_(limit), expected_(expected), cut_off_(std::move(cut_off)) {}
  [[nodiscard]] bool exceeded() const { return exceeded_; }
  [[nodiscard]] bool truncated() const { return truncated_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (delivered_ >= limit_) {
      if (!exceeded_ && source_.good() && source_.peek() != std::istream::traits_type::eof()) {
        exceeded_ = true;
      }
      return traits_type::eof();
    }
    const std::size_t want = std::min(sizeof(buffer_), limit_ - delivered_);
    source_.read(buffer_, static_cast<std::streamsize>(want));
    const auto got = static_cast<std::size_t>(source_.gcount());
    if (got == 0) {
      const bool short_of_length = expected_ && delivered_ < std::min(*expected_, limit_);
      const bool hung_up = !expected_ && cut_off_ && cut_off_();
      if (short_of_length || source_.bad() || hung_up) {
        truncated_ = true;
        // std::istream turns this into badbit, so a reader cannot mistake a
        // cut-off upload for a complete one.
        throw std::ios_base::failure("request body was cut off before its end");
      }
      return traits_type::eof();
    }
    delivered_ += got;
    setg(buffer_, buffer_, buffer_ + got);
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::istream& source_;
  std::size_t limit_;
  std::optional<std::size_t> expected_;
  std::function<bool()> cut_off_;
  std::size_t delivered_ = 0;
  bool exceeded_ = false;
  bool truncated_ = false;
  char buffer_[8192];
};

Request::Request(std::string method, std::string path, Pairs path_params, Pairs query,
                 std::string request_id, Poco::Net::HTTPServerRequest* raw)
    : method_(std::move(method)),
      path_(std::move(path)),
      params_(std::move(path_params)),
      query_(std::move(query)),
      request_id_(std::move(request_id)),
      raw_(raw) {}

Request::~Request() = default;

std::string_view Request::path_param(std::string_view name) const {
  for (const auto& [k, v] : params_) {
    if (k == name) return v;
  }
  throw std::out_of_range("route has no path parameter '" + std::string(name) + "'");
}

const Requester& Request::requester() const {
  if (!requester_) {
    throw std::logic_error("route " + path_ + " reads the requester but was not authenticated");
  }
  return *requester_;
}

std::optional<std::string> Request::query(std::string_view name) const {
  for (const auto& [k, v] : query_) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::vector<std::string> Request::query_all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query_) {
    if (k == name) out.push_back(v);
  }
  return out;
}

std::optional<std::string> Request::header(std::string_view name) const {
  const std::string key(name);
  if (raw_ != nullptr) {
    if (raw_->has(key)) return raw_->get(key);
    return std::nullopt;
  }
  if (headers_.has(key)) return headers_.get(key);
  return std::nullopt;
}

Poco::Net::HTTPServerRequest& Request::raw() {
  if (raw_ == nullptr) throw std::logic_error("request has no underlying HTTP request");
  return *raw_;
}

void Request::set_body_stream(std::istream* stream, std::size_t limit,
                              std::optional<std::size_t> expected, std::function<bool()> cut_off) {
  limited_stream_.reset();
  limited_buf_.reset();
  if (stream == nullptr) return;
  limited_buf_ = std::make_unique<LimitedBuf>(*stream, limit, expected, std::move(cut_off));
  limited_stream_ = std::make_unique<std::istream>(limited_buf_.get());
}

std::istream& Request::body_stream() {
  if (!limited_stream_) {
    // No body (or built by a test without one): an empty stream.
    empty_source_ = std::make_unique<std::istringstream>();
    set_body_stream(empty_source_.get(), 0);
  }
  return *limited_stream_;
}

bool Request::body_too_large() const {
  return limited_buf_ && limited_buf_->exceeded();
}

bool Request::body_truncated() const {
  return limited_buf_ && limited_buf_->truncated();
}

// ---------------------------------------------------------------------------
// Path and query decoding

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string> split_pattern(std::string_view pattern) {
  std::vector<std::string> out;
  std::size_t pos = 1;  // after the leading '/'
  while (pos <= pattern.size()) {
    const auto next = pattern.find('/', pos);
    const auto end = next == std::string_view::npos ? pattern.size() : next;
    out.emplace_back(pattern.substr(pos, end - pos));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return out;
}

}  // namespace

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      const char decoded = static_cast<char>((hi << 4) | lo);
      if (decoded == '\0') return false;
      out += decoded;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '\0') {
      // Poco passes a raw NUL in the request target through (it only stops at
      // blanks), and it must not reach a handler any more than "%00" does.
      return false;
    } else {
      out += c;
    }
  }
  return true;
}

bool split_path(std::string_view raw_path, std::vector<std::string>& segments,
                std::string& decoded_path) {
  segments.clear();
  decoded_path.clear();
  if (raw_path.empty() || raw_path.front() != '/') return false;
  std::size_t pos = 1;
  std::string segment;
  while (true) {
    const auto next = raw_path.find('/', pos);
    const auto end = next == std::string_view::npos ? raw_path.size() : next;
    if (!percent_decode(raw_path.substr(pos, end - pos), segment, false)) return false;
    decoded_path += '/';
    decoded_path += segment;
    segments.push_back(segment);
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  // "/" is one empty segment; keep it that way so a route "/" can match it.
  return true;
}

bool parse_query(std::string_view raw_query, Request::Pairs& out) {
  out.clear();
  std::size_t pos = 0;
  std::string key;
  std::string value;
  while (pos <= raw_query.size()) {
    const auto amp = raw_query.find('&', pos);
    const auto end = amp == std::string_view::npos ? raw_query.size() : amp;
    const auto part = raw_query.substr(pos, end - pos);
    if (!part.empty()) {
      const auto eq = part.find('=');
      const auto k = part.substr(0, eq);
      const auto v = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
      if (!percent_decode(k, key, true) || !percent_decode(v, value, true)) return false;
      out.emplace_back(key, value);
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Router

void Router::add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  if (method.empty()) throw std::invalid_argument("route " + pattern + ": empty method");
  std::transform(method.begin(), method.end(), method.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern '" + pattern + "' must start with '/'");
  }
  if (!handler) throw std::invalid_argument("route " + method + " " + pattern + ": no handler");

  Route route;
  route.method = method;
  route.pattern = pattern;
  route.handler = std::move(handler);
  route.options = options;

  const auto segments = split_pattern(pattern);
  std::vector<std::string> keys;  // the literal, or empty for a parameter
  std::vector<bool> is_param;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& seg = segments[i];
    const bool opens = seg.find('{') != std::string::npos;
    const bool closes = seg.find('}') != std::string::npos;
    if (opens || closes) {
      if (seg.size() < 3 || seg.front() != '{' || seg.back() != '}' ||
          seg.find_first_of("{}", 1) != seg.size() - 1) {
        throw std::invalid_argument("route pattern '" + pattern +
                                    "': a parameter must be a whole segment like {name}");
      }
      std::string name = seg.substr(1, seg.size() - 2);
      for (const auto& p : route.params) {
        if (p.second == name) {
          throw std::invalid_argument(
              fmt::format("route pattern '{}': parameter {{{}}} appears twice", pattern, name));
        }
      }
      route.params.emplace_back(i, std::move(name));
      keys.emplace_back();
      is_param.push_back(true);
    } else {
      keys.push_back(seg);
      is_param.push_back(false);
    }
  }

  // Walk/extend the trie.
  std::size_t node = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (is_param[i]) {
      if (nodes_[node].param == 0) {
        nodes_.emplace_back();
        nodes_[node].param = nodes_.size() - 1;
      }
      node = nodes_[node].param;
    } else {
      auto& lits = nodes_[node].literals;
      auto it =
          std::find_if(lits.begin(), lits.end(), [&](const auto& l) { return l.first == keys[i]; });
      if (it == lits.end()) {
        nodes_.emplace_back();
        nodes_[node].literals.emplace_back(keys[i], nodes_.size() - 1);
        node = nodes_.size() - 1;
      } else {
        node = it->second;
      }
    }
  }
  for (auto index : nodes_[node].routes) {
    if (routes_[index].method == method) {
      throw std::invalid_argument(fmt::format("route {} {} is already registered (as {})", method,
                                              pattern, routes_[index].pattern));
    }
  }
  routes_.push_back(std::move(route));
  nodes_[node].routes.push_back(routes_.size() - 1);
}

void Router::collect(std::size_t node, const std::vector<std::string>& segments, std::size_t depth,
                     std::vector<std::size_t>& found) const {
  const Node& n = nodes_[node];
  if (depth == segments.size()) {
    if (!n.routes.empty()) found.push_back(node);
    return;
  }
  const auto& seg = segments[depth];
  for (const auto& [literal, child] : n.literals) {
    if (literal == seg) {
      collect(child, segments, depth + 1, found);
      break;
    }
  }
  if (n.param != 0 && !seg.empty()) collect(n.param, segments, depth + 1, found);
}

Router::Match Router::match(std::string_view method,
                            const std::vector<std::string>& segments) const {
  Match m;
  std::vector<std::size_t> found;  // candidate nodes, most specific first
  collect(0, segments, 0, found);
  if (found.empty()) return m;
  m.path_known = true;

  const Route* chosen = nullptr;
  for (const std::string_view want : {method, std::string_view(method == "HEAD" ? "GET" : "")}) {
    if (want.empty()) continue;
    for (auto node : found) {
      for (auto index : nodes_[node].routes) {
        if (routes_[index].method == want) {
          chosen = &routes_[index];
          break;
        }
      }
      if (chosen != nullptr) break;
    }
    if (chosen != nullptr) break;
  }

  if (chosen == nullptr) {
    std::vector<std::string> methods;
    for (auto node : found) {
      for (auto index : nodes_[node].routes) {
        const auto& mth = routes_[index].method;
        if (std::find(methods.begin(), methods.end(), mth) == methods.end()) {
          methods.push_back(mth);
        }
      }
    }
    if (std::find(methods.begin(), methods.end(), "GET") != methods.end() &&
        std::find(methods.begin(), methods.end(), "HEAD") == methods.end()) {
      methods.emplace_back("HEAD");
    }
    methods.emplace_back("OPTIONS");
    for (const auto& mth : methods) m.allow += (m.allow.empty() ? "" : ", ") + mth;
    return m;
  }

  m.route = chosen;
  m.params.reserve(chosen->params.size());
  for (const auto& [index, name] : chosen->params) m.params.emplace_back(name, segments[index]);
  return m;
}

}  // namespace eltrix::http
