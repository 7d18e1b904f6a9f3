// Real HTTP requests over loopback for the http and health unit tests.
#pragma once

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace eltrix::test {

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  [[nodiscard]] std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
  [[nodiscard]] bool has_header(const std::string& lower_name) const {
    return headers.count(lower_name) != 0;
  }
};

struct RequestSpec {
  std::string method = "GET";
  std::string uri = "/";
  std::string body;
  bool send_body = false;  // sets Content-Length (or chunked) even when body is empty
  bool chunked = false;
  std::vector<std::pair<std::string, std::string>> headers;
};

inline std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// One request on an existing (possibly keep-alive) session.
inline HttpResult send(Poco::Net::HTTPClientSession& session, const RequestSpec& spec) {
  Poco::Net::HTTPRequest request(spec.method, spec.uri, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [k, v] : spec.headers) request.set(k, v);
  const bool has_body = spec.send_body || !spec.body.empty();
  if (spec.chunked) {
    request.setChunkedTransferEncoding(true);
  } else if (has_body) {
    request.setContentLength(static_cast<std::streamsize>(spec.body.size()));
  }
  std::ostream& out = session.sendRequest(request);
  if (has_body || spec.chunked) out << spec.body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  HttpResult result;
  result.status = static_cast<int>(response.getStatus());
  for (const auto& [k, v] : response) result.headers[lower(k)] = v;
  if (spec.method != "HEAD") {
    std::ostringstream body;
    Poco::StreamCopier::copyStream(in, body);
    result.body = body.str();
  }
  return result;
}

inline HttpResult request(std::uint16_t port, const RequestSpec& spec) {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  session.setTimeout(Poco::Timespan(10, 0));
  return send(session, spec);
}

inline HttpResult get(std::uint16_t port, const std::string& uri) {
  RequestSpec spec;
  spec.uri = uri;
  return request(port, spec);
}

/// Runs `promtool check metrics` on `text`; returns its exit status and output.
inline std::pair<int, std::string> promtool_check(const std::string& text) {
  char path[] = "/tmp/eltrix-metrics-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return {-1, "mkstemp failed"};
  FILE* f = fdopen(fd, "w");
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  const std::string command = std::string("promtool check metrics < ") + path + " 2>&1";
  FILE* p = popen(command.c_str(), "r");
  std::string output;
  if (p != nullptr) {
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) output.append(buf, n);
  }
  const int status = p != nullptr ? pclose(p) : -1;
  std::remove(path);
  return {status, output};
}

}  // namespace eltrix::test
